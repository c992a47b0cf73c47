// The sxs host library: load the image, run a virtual board, talk to a board over a
// serial port (openBoard), serve the board side of the link (LinkServer, startSim), and
// drive the CLI.

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
export * from "./client/index.js";
export { LinkServer, type LinkServerOptions } from "./board/link-server.js";
export { startSim, openPty, type Sim, type SimOptions, type Pty } from "./board/sim.js";
export { NorFlash, FlashPartition, FlashError, PARTITIONS, type Partition } from "./board/flash.js";
export { createLinkPair, type LinkPair, type WireOptions } from "./link/emulator.js";
