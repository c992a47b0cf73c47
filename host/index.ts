// The sxs host library: load the image, run a virtual board, drive the CLI.

export {
  ABI_VERSION,
  Channel,
  CHANNEL_LETTERS,
  ImageError,
  Limit,
  RealClock,
  Stat,
  STAT_NAMES,
  Submit,
  SxsImage,
  VirtualClock,
  channelName,
  compileImage,
  defaultImagePath,
  fromBytes,
  packageRoot,
  toBytes,
  type ChannelLetter,
  type Clock,
  type ImageHost,
  type LimitId,
  type SplitResult,
  type StatId,
} from "./image/image.js";
export {
  BoardError,
  VirtualBoard,
  type BoardErrorCode,
  type BoardEvents,
  type Submission,
  type VirtualBoardOptions,
} from "./board/virtual-board.js";
export { runTranscript, transcriptOn, transcriptText, type TranscriptOptions } from "./board/transcript.js";
export { COMMANDS, main, processIO } from "./cli/main.js";
export { ExitCode, UsageError, type CliCommand, type CliIO, type OptionSpec, type ParsedArgs } from "./cli/command.js";
