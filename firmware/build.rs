//! Builds the firmware's C (core/, ports/posix/, test/) against wasm3, and
//! assembles the test fixtures (test/fixtures/*.wat) with the `wat` crate.
//!
//! Where wasm3 comes from (both are registry packages, never copied here):
//! - feature `wasm3-crates` (default): crates.io wasm3-sys 0.3.0 compiles its
//!   bundled wasm3 ("0.4.7"); we only locate its headers.
//! - feature `wasm3-pypi`: PyPI's pywasm3 0.5.0 sdist (wasm3 0.5.0), fetched
//!   with `pip download` (sha256-pinned) or taken from $SXS_PYWASM3_SDIST,
//!   and compiled here.
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const PYWASM3_SDIST: &str = "pywasm3-0.5.0.tar.gz";
const PYWASM3_SHA256: &str = "5a47c8a39f7f6ae71b3316b2e5d86c9d0db6e771a65f09a86e4d4aa3a19aefcc";

/// The wasm3 configuration both wasm3 and our C are compiled with.  These
/// are the defines wasm3-sys uses (no features): sxs_m3.c includes wasm3's
/// internal headers, whose struct layouts depend on them.
const WASM3_DEFINES: &[(&str, &str)] = &[("d_m3LogOutput", "0"), ("d_m3Use32BitSlots", "0")];

/// wasm3-sys prints no include path for its dependents, so find its source
/// directory through `cargo metadata`: the package whose manifest directory
/// holds wasm3/source/wasm3.h.
fn wasm3_sys_source_dir(manifest_dir: &Path) -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--no-default-features", "--features", "wasm3-crates", "--manifest-path"])
        .arg(manifest_dir.join("Cargo.toml"))
        .output()
        .expect("running cargo metadata");
    if !out.status.success() {
        panic!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let json = String::from_utf8_lossy(&out.stdout);
    const KEY: &str = "\"manifest_path\":\"";
    for (i, _) in json.match_indices(KEY) {
        let rest = &json[i + KEY.len()..];
        let Some(end) = rest.find('"') else { continue };
        let manifest = PathBuf::from(rest[..end].replace("\\\\", "\\"));
        let dir = manifest.parent().unwrap().join("wasm3").join("source");
        if dir.join("wasm3.h").is_file() && dir.join("m3_env.h").is_file() {
            return dir;
        }
    }
    panic!("could not locate wasm3-sys's wasm3/source directory via cargo metadata");
}

fn sha256_of(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("running sha256sum");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or("").to_string()
}

/// Fetch (or take) the pywasm3 0.5.0 sdist, check its hash, unpack it into
/// OUT_DIR; returns the wasm3 source directory inside it.
fn pywasm3_source_dir(out: &Path) -> PathBuf {
    println!("cargo:rerun-if-env-changed=SXS_PYWASM3_SDIST");
    let dir = out.join("pywasm3");
    fs::create_dir_all(&dir).unwrap();
    let sdist = match env::var("SXS_PYWASM3_SDIST") {
        Ok(p) => PathBuf::from(p),
        Err(_) => {
            let target = dir.join(PYWASM3_SDIST);
            if !target.is_file() {
                let req = dir.join("requirements.txt");
                fs::write(&req, format!("pywasm3==0.5.0 --hash=sha256:{PYWASM3_SHA256}\n")).unwrap();
                let python = env::var("PYTHON").unwrap_or_else(|_| "python3".into());
                let st = Command::new(&python)
                    .args(["-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", "--require-hashes", "-r"])
                    .arg(&req)
                    .arg("-d")
                    .arg(&dir)
                    .status()
                    .expect("running python3 -m pip download");
                assert!(st.success(), "pip download pywasm3==0.5.0 failed (set SXS_PYWASM3_SDIST to a local copy)");
            }
            target
        }
    };
    let sum = sha256_of(&sdist);
    assert_eq!(sum, PYWASM3_SHA256, "{}: unexpected sha256", sdist.display());
    let st = Command::new("tar").arg("xzf").arg(&sdist).arg("-C").arg(&dir).status().expect("running tar");
    assert!(st.success(), "unpacking {}", sdist.display());
    let src = dir.join("pywasm3-0.5.0").join("wasm3");
    assert!(src.join("wasm3.h").is_file(), "no wasm3/wasm3.h in {}", sdist.display());
    src
}

fn c_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().map_or(false, |x| x == "c"))
        .collect();
    v.sort();
    v
}

fn base_build(wasm3: &Path, root: &Path) -> cc::Build {
    let mut b = cc::Build::new();
    b.cpp(false)
        .std("c11")
        .define("_POSIX_C_SOURCE", "200809L")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .flag("-isystem")
        .flag(wasm3.to_str().unwrap())
        .include(root.join("core"))
        .include(root.join("ports/posix"));
    for (k, v) in WASM3_DEFINES {
        b.define(k, *v);
    }
    b
}

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    for d in ["core", "ports/posix", "test", "test/fixtures"] {
        println!("cargo:rerun-if-changed={}", root.join(d).display());
    }
    println!("cargo:rerun-if-changed=build.rs");

    let crates = env::var_os("CARGO_FEATURE_WASM3_CRATES").is_some();
    let pypi = env::var_os("CARGO_FEATURE_WASM3_PYPI").is_some();
    let wasm3 = match (crates, pypi) {
        (true, false) => wasm3_sys_source_dir(&root),
        (false, true) => {
            let src = pywasm3_source_dir(&out);
            let mut w = cc::Build::new();
            w.cpp(false).warnings(false).extra_warnings(false).include(&src).files(c_files(&src));
            for (k, v) in WASM3_DEFINES {
                w.define(k, *v);
            }
            w.compile("wasm3");
            src
        }
        _ => panic!("enable exactly one of the features wasm3-crates (default) and wasm3-pypi"),
    };
    println!("cargo:rustc-env=SXS_WASM3_SOURCE={}", wasm3.display());

    // the firmware proper
    let mut fw = base_build(&wasm3, &root);
    fw.files(c_files(&root.join("core")));
    fw.files(c_files(&root.join("ports/posix")));
    fw.compile("sxsfw");

    // test fixtures: .wat -> .wasm
    let fixtures = out.join("fixtures");
    fs::create_dir_all(&fixtures).unwrap();
    for f in fs::read_dir(root.join("test/fixtures")).unwrap().filter_map(Result::ok) {
        let p = f.path();
        if p.extension().map_or(false, |x| x == "wat") {
            let bytes = wat::parse_file(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            fs::write(fixtures.join(p.with_extension("wasm").file_name().unwrap()), bytes).unwrap();
        }
    }

    // the C test runner
    let mut t = base_build(&wasm3, &root);
    let repo = root.parent().unwrap();
    t.include(root.join("test"))
        .define("SXS_FIXTURE_DIR", format!("\"{}\"", fixtures.display()).as_str())
        .define("SXS_VECTOR_DIR", format!("\"{}\"", repo.join("test/vectors").display()).as_str())
        .define("SXS_IMAGE_PATH", format!("\"{}\"", repo.join("build/sxs.wasm").display()).as_str());
    t.files(c_files(&root.join("test")));
    t.compile("sxsfw_test");
}
