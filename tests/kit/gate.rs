//! One area at a time on the shared mail stack and RT.
//!
//! The tests of one module share mailboxes (dana's, the vendor's) and
//! count what lands in them; they were written to run in parallel with
//! each other, but not next to another module's mail (each module was its
//! own test binary, and cargo runs binaries one after another). A test
//! that uses the stack enters the gate with its module's name: tests of
//! the same module go in together, another module's wait until the last
//! of them has left. A test whose reads must see only its own mail (an
//! exact count of what arrived) enters alone, with [`enter_alone`].

use std::sync::{Condvar, Mutex};

/// The module inside, how many of its tests, and whether one is alone.
static INSIDE: Mutex<(Option<&'static str>, usize, bool)> = Mutex::new((None, 0, false));
static LEFT: Condvar = Condvar::new();

/// Held while a test uses the stack; leaves the gate when dropped.
#[must_use = "the gate is left when this is dropped"]
pub struct Inside;

/// Waits until no other module's test uses the stack; call with `module_path!()`.
pub fn enter(module: &'static str) -> Inside {
    let mut inside = INSIDE.lock().unwrap_or_else(|e| e.into_inner());
    while inside.2 || inside.0.is_some_and(|m| m != module) {
        inside = LEFT.wait(inside).unwrap_or_else(|e| e.into_inner());
    }
    inside.0 = Some(module);
    inside.1 += 1;
    Inside
}

/// Waits until no test at all uses the stack, and keeps every other out
/// until this one leaves: for a test that counts what lands in a mailbox
/// its module's other tests also write to.
pub fn enter_alone(module: &'static str) -> Inside {
    let mut inside = INSIDE.lock().unwrap_or_else(|e| e.into_inner());
    while inside.1 > 0 {
        inside = LEFT.wait(inside).unwrap_or_else(|e| e.into_inner());
    }
    *inside = (Some(module), 1, true);
    Inside
}

impl Drop for Inside {
    fn drop(&mut self) {
        let mut inside = INSIDE.lock().unwrap_or_else(|e| e.into_inner());
        inside.1 -= 1;
        if inside.1 == 0 {
            *inside = (None, 0, false);
            LEFT.notify_all();
        }
    }
}
