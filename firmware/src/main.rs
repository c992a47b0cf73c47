//! `sxs-fw`: the Linux firmware.  All of it is C (../core, ../ports/posix);
//! this shim only hands argv to `sxs_posix_main`.
mod c_entry;

use std::os::raw::{c_char, c_int};

extern "C" {
    fn sxs_posix_main(argc: c_int, argv: *mut *mut c_char) -> c_int;
}

fn main() {
    c_entry::run(sxs_posix_main);
}
