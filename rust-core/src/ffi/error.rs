//! Status codes and the thread-local last error.

use std::cell::RefCell;
use std::ffi::{CString, c_char, c_int};

use crate::cgroups::CgroupError;
use crate::error::Error;
use crate::image::ImageError;
use crate::net::NetError;
use crate::rootfs::RootfsError;
use crate::spec::SpecError;
use crate::state::StoreError;

/// Status returned by every fallible function. The numbers are stable and never reused; each
/// has one meaning.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rt_status {
    /// Success.
    OK = 0,
    /// A required pointer argument was NULL.
    NULL_ARG = 1,
    /// An argument has a wrong value (see error_message()).
    INVALID_ARG = 2,
    /// A string argument is not valid UTF-8 where UTF-8 is required.
    INVALID_UTF8 = 3,
    /// A system call failed (see error_errno()).
    SYSCALL = 4,
    /// A netlink request failed.
    NETLINK = 5,
    /// A cgroup operation failed.
    CGROUP = 6,
    /// The object is in the wrong state for the call (e.g. wait before start).
    STATE = 7,
    /// A bug: the library panicked. The object involved should not be used further.
    PANIC = 8,
    /// The command was not found in the container (docker-run exits 127).
    NOT_FOUND = 9,
    /// The command could not be executed (docker-run exits 126).
    NOT_EXECUTABLE = 10,
    /// A container setup step failed before the command ran.
    CHILD_SETUP = 11,
    /// A caller-provided buffer is too small; the needed length was written to *out_len.
    BUFFER_TOO_SMALL = 12,
    /// The call needs root (effective uid 0) and the caller is not; nothing was done.
    NEEDS_ROOT = 13,
    /// No container has that name, id or id prefix (container_open).
    NO_SUCH_CONTAINER = 14,
    /// A name or an address is held by a running container.
    IN_USE = 15,
    /// An OCI hook failed (or timed out).
    HOOK = 16,
    /// No image has that name, id or id prefix (image_remove, container_config_set_image, ...).
    NO_SUCH_IMAGE = 17,
    /// An image archive or a stored image is bad: malformed, a digest or size that does not
    /// match, an entry that would reach outside its layer, a format not supported.
    BAD_IMAGE = 18,
}

impl rt_status {
    pub fn from_error(e: &Error) -> rt_status {
        match e {
            Error::Spec(
                SpecError::Rootfs { .. }
                | SpecError::BindSource { .. }
                | SpecError::SeccompFile { .. },
            ) => rt_status::SYSCALL,
            Error::Spec(_) | Error::Signal(_) | Error::Seccomp(_) => rt_status::INVALID_ARG,
            Error::Rootfs(RootfsError::Io { .. }) => rt_status::SYSCALL,
            Error::Rootfs(_) => rt_status::INVALID_ARG,
            Error::Syscall { .. } | Error::Io { .. } => rt_status::SYSCALL,
            Error::ChildSetup { .. } => rt_status::CHILD_SETUP,
            Error::CommandNotFound { .. } => rt_status::NOT_FOUND,
            Error::CommandNotExecutable { .. } => rt_status::NOT_EXECUTABLE,
            Error::Cgroup(e) => cgroup_status(e),
            Error::Net(e) => net_status(e),
            Error::Store(e) => match e {
                StoreError::NoSuchContainer(_) => rt_status::NO_SUCH_CONTAINER,
                StoreError::Ambiguous { .. } => rt_status::INVALID_ARG,
                StoreError::NameInUse { .. } => rt_status::IN_USE,
                StoreError::Starting(_) | StoreError::SeccompProfile { .. } => rt_status::STATE,
                StoreError::Io { .. } => rt_status::SYSCALL,
            },
            Error::Image(e) => image_status(e),
            Error::State(_) => rt_status::STATE,
            Error::NeedsRoot { .. } => rt_status::NEEDS_ROOT,
            Error::Hook { .. } | Error::HookStatus(_) => rt_status::HOOK,
            Error::Bundle { errno: Some(_), .. } => rt_status::SYSCALL,
            Error::Bundle { errno: None, .. } => rt_status::INVALID_ARG,
        }
    }
}

fn cgroup_status(e: &CgroupError) -> rt_status {
    use CgroupError::*;
    match e {
        InvalidName(_)
        | SwapWithoutMemory(_)
        | SwapBelowMemory { .. }
        | InvalidValue { .. }
        | UnknownKey { .. }
        | ControllerMissing(_)
        | NotSupported { .. }
        | UnknownStat(_) => rt_status::INVALID_ARG,
        Io { .. } | Write { .. } | UnknownLayout { .. } | Parse { .. } | StatUnavailable(_) => {
            rt_status::CGROUP
        }
    }
}

fn image_status(e: &ImageError) -> rt_status {
    use ImageError::*;
    match e {
        NotFound(_) => rt_status::NO_SUCH_IMAGE,
        Invalid(_) | InvalidReference { .. } | Ambiguous { .. } => rt_status::INVALID_ARG,
        InUse { .. } | MultipleNames { .. } => rt_status::IN_USE,
        Io { .. } => rt_status::SYSCALL,
        DigestMismatch { .. }
        | SizeMismatch { .. }
        | Format { .. }
        | UnsafeEntry { .. }
        | Unsupported(_)
        | Corrupt { .. } => rt_status::BAD_IMAGE,
    }
}

fn net_status(e: &NetError) -> rt_status {
    match e {
        NetError::Invalid(_) => rt_status::INVALID_ARG,
        NetError::AddressInUse { .. } | NetError::SubnetFull { .. } => rt_status::IN_USE,
        NetError::Netlink { .. } | NetError::Prepare(_) => rt_status::NETLINK,
        NetError::Io { .. } | NetError::ToolMissing(_) | NetError::ToolFailed { .. } => {
            rt_status::SYSCALL
        }
    }
}

struct LastError {
    message: CString,
    errno: c_int,
}

thread_local! {
    static LAST: RefCell<LastError> = RefCell::new(LastError { message: CString::default(), errno: 0 });
}

pub(crate) fn clear() {
    LAST.with(|l| {
        let mut l = l.borrow_mut();
        if !l.message.as_bytes().is_empty() {
            l.message = CString::default();
        }
        l.errno = 0;
    });
}

pub(crate) fn set(message: String, errno: c_int) {
    // Interior NULs cannot be shown through a C string; replace them.
    let message = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST.with(|l| *l.borrow_mut() = LastError { message, errno });
}

pub(crate) fn set_error(e: &Error) -> c_int {
    set(e.to_string(), e.errno().unwrap_or(0));
    rt_status::from_error(e) as c_int
}

/// The message of the last failed call on this thread: a NUL-terminated string owned by the
/// library, never NULL (empty when the last call succeeded), valid until the next fallible call
/// on this thread.
#[unsafe(no_mangle)]
pub extern "C" fn error_message() -> *const c_char {
    LAST.with(|l| l.borrow().message.as_ptr())
}

/// The errno behind the last failed call on this thread, or 0 if it had none.
#[unsafe(no_mangle)]
pub extern "C" fn error_errno() -> c_int {
    LAST.with(|l| l.borrow().errno)
}
