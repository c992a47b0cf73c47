//! `sxs-fw`: the Linux firmware.  All of it is C (../core, ../ports/posix);
//! this shim only hands argv to `sxs_posix_main`.
#[cfg(feature = "wasm3-crates")]
extern crate wasm3_sys; // links wasm3 (built by the wasm3-sys crate)

use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::OsStringExt;

extern "C" {
    fn sxs_posix_main(argc: c_int, argv: *mut *mut c_char) -> c_int;
}

fn main() {
    let args: Vec<CString> = std::env::args_os()
        .map(|a| CString::new(a.into_vec()).expect("argument with a NUL byte"))
        .collect();
    let mut argv: Vec<*mut c_char> = args.iter().map(|a| a.as_ptr() as *mut c_char).collect();
    argv.push(std::ptr::null_mut());
    let code = unsafe { sxs_posix_main(args.len() as c_int, argv.as_mut_ptr()) };
    std::process::exit(code);
}
