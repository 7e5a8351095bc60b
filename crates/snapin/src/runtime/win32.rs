//! The Windows calls behind executable plugins, where Unix has process
//! groups and signals: the console's Ctrl-C while a plugin runs, and a job
//! object holding everything a describe call started.

// Calls into the Windows API, each with its contract stated.
#![allow(unsafe_code)]

use std::os::windows::io::AsRawHandle;
use std::process::Child;

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE};
use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, CTRL_C_EVENT, SetConsoleCtrlHandler};
use windows_sys::Win32::System::JobObjects::{
    AssignProcessToJobObject, CreateJobObjectW, TerminateJobObject,
};
use windows_sys::core::BOOL;

/// Ctrl-C and Ctrl-Break go to every process of the console: the host
/// keeps waiting and the plugin, which gets them too, decides (as on Unix,
/// where the host ignores SIGINT while the plugin runs). Called before a
/// run; the handler is not inherited by the plugin.
pub(super) fn leave_console_interrupts_to_the_plugin() {
    unsafe extern "system" fn handled(event: u32) -> BOOL {
        BOOL::from(event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT)
    }
    // SAFETY: `handled` is a valid handler for the life of the process
    // and touches nothing; adding it twice is harmless.
    if unsafe { SetConsoleCtrlHandler(Some(handled), 1) } == 0 {
        tracing::debug!(
            "cannot leave Ctrl-C to the plugin: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// A job object holding a describe call's process and, once it is in, every
/// process it starts: ending the job ends them all, as killing the process
/// group does on Unix. A process the plugin starts before it is assigned
/// (in the moment between its start and [`Job::holding`]) escapes, as a
/// process that leaves its group does on Unix.
pub(super) struct Job(HANDLE);

impl Job {
    /// A new job holding `child`, or `None` when Windows refuses one (the
    /// caller then ends only `child`).
    pub(super) fn holding(child: &Child) -> Option<Job> {
        // SAFETY: null attributes and name make an unnamed job with default
        // security; the handle is closed by Drop.
        let handle = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
        if handle.is_null() {
            return None;
        }
        let job = Job(handle);
        // SAFETY: both handles are open: the job's is ours, the child's
        // lives as long as `child`.
        if unsafe { AssignProcessToJobObject(job.0, child.as_raw_handle() as HANDLE) } == 0 {
            tracing::debug!(
                "cannot put the plugin in a job: {}",
                std::io::Error::last_os_error()
            );
            return None;
        }
        Some(job)
    }

    /// Ends every process in the job.
    pub(super) fn terminate(&self) {
        // SAFETY: the handle is open; an empty job is not an error.
        unsafe { TerminateJobObject(self.0, 1) };
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // SAFETY: the handle is ours and closed once.
        unsafe { CloseHandle(self.0) };
    }
}
