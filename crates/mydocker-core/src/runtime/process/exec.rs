//! Finding the command through the container's PATH and replacing init with
//! it. Failures carry docker's codes: 127 not found, 126 cannot execute.

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::errno::Errno;
use nix::unistd::{access, execve, AccessFlags};

use crate::error::{EXIT_CANNOT_RUN, EXIT_NOT_FOUND};

pub struct ExecFailure {
    pub message: String,
    pub code: i32,
}

/// The program `name` names: itself when it holds a '/', else the first
/// executable regular file of that name in `search_path`.
pub fn find_program(name: &CStr, search_path: &str) -> Result<CString, ExecFailure> {
    let shown = name.to_string_lossy();
    if name.to_bytes().contains(&b'/') {
        return Ok(name.to_owned());
    }
    let mut denied = None;
    for dir in search_path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(std::ffi::OsStr::from_bytes(name.to_bytes()));
        let Ok(meta) = std::fs::metadata(&candidate) else { continue };
        if !meta.is_file() {
            continue;
        }
        match access(&candidate, AccessFlags::X_OK) {
            Ok(()) => return CString::new(candidate.as_os_str().as_bytes()).map_err(|_| not_found(&shown)),
            Err(_) => denied = Some(candidate),
        }
    }
    match denied {
        Some(p) => Err(ExecFailure {
            message: format!("exec: {:?}: permission denied", p.display().to_string()),
            code: EXIT_CANNOT_RUN,
        }),
        None => Err(not_found(&shown)),
    }
}

fn not_found(name: &str) -> ExecFailure {
    ExecFailure {
        message: format!("exec: {name:?}: executable file not found in $PATH"),
        code: EXIT_NOT_FOUND,
    }
}

/// execve; returns only on failure, with docker's code for it.
pub fn exec(program: &CStr, args: &[CString], env: &[CString]) -> ExecFailure {
    let err = match execve(program, args, env) {
        Err(e) => e,
        Ok(never) => match never {},
    };
    let shown = program.to_string_lossy();
    let code = match err {
        Errno::ENOENT | Errno::ENOTDIR => EXIT_NOT_FOUND,
        _ => EXIT_CANNOT_RUN,
    };
    let what = match err {
        Errno::ENOENT => "no such file or directory".to_string(),
        Errno::EACCES => "permission denied".to_string(),
        Errno::ENOEXEC => "exec format error".to_string(),
        e => e.desc().to_lowercase(),
    };
    ExecFailure { message: format!("exec: {shown:?}: {what}"), code }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> CString {
        CString::new(s).unwrap()
    }

    #[test]
    fn finds_programs_through_path() {
        assert_eq!(find_program(&c("sh"), "/nonexistent:/bin").ok().unwrap(), c("/bin/sh"));
    }

    #[test]
    fn missing_program_is_127() {
        let f = find_program(&c("no-such-program-xyz"), "/bin:/usr/bin").err().unwrap();
        assert_eq!(f.code, 127);
        assert!(f.message.contains("executable file not found in $PATH"), "{}", f.message);
    }

    #[test]
    fn a_path_is_taken_as_is() {
        assert_eq!(find_program(&c("./x"), "/bin").ok().unwrap(), c("./x"));
    }

    #[test]
    fn a_folder_is_not_a_program() {
        let f = find_program(&c("tmp"), "/").err().unwrap();
        assert_eq!(f.code, 127);
    }
}
