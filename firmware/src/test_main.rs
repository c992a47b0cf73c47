//! `sxs-fw-test`: the firmware's C test runner (../test); prints
//! `N passed, N failed` and exits non-zero on a failure.
mod c_entry;

use std::os::raw::{c_char, c_int};

extern "C" {
    fn sxs_test_main(argc: c_int, argv: *mut *mut c_char) -> c_int;
}

fn main() {
    c_entry::run(sxs_test_main);
}
