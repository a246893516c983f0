//! The only module with fork/clone and raw system calls; each `unsafe` has
//! its `// SAFETY:` line.

pub mod channel;
pub mod clone;
pub mod exec;
pub mod init;
pub mod pidfd;
pub mod tty;
pub mod join;
pub mod trim;
