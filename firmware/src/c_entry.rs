//! Hands the process's argv to a C `main`-like entry point and exits with its
//! code; shared by the two binaries, whose work is all in C.
#[cfg(feature = "wasm3-crates")]
extern crate wasm3_sys; // links wasm3 (built by the wasm3-sys crate)

use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::OsStringExt;

pub type CMain = unsafe extern "C" fn(argc: c_int, argv: *mut *mut c_char) -> c_int;

pub fn run(entry: CMain) -> ! {
    let args: Vec<CString> = std::env::args_os()
        .map(|a| CString::new(a.into_vec()).expect("argument with a NUL byte"))
        .collect();
    let mut argv: Vec<*mut c_char> = args.iter().map(|a| a.as_ptr() as *mut c_char).collect();
    argv.push(std::ptr::null_mut());
    // SAFETY: argv is a NULL-terminated array of NUL-terminated strings that
    // outlive the call, as a C main expects.
    let code = unsafe { entry(args.len() as c_int, argv.as_mut_ptr()) };
    std::process::exit(code);
}
