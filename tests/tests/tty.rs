//! `run -t`: a real terminal inside, relayed to mydocker's own terminal,
//! which is put in raw mode for the run and restored after.

use std::time::Duration;

use mydocker_tests::pty::{self, Pty};
use mydocker_tests::test_env;

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn tty_inside_with_the_terminal_size() {
    let env = test_env!("tty_size");
    let term = Pty::open(40, 100);
    let before = term.termios();
    let mut run = term.spawn(env.command(&[
        "run",
        "-it",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "tty; stty size; test -t 0 && echo stdin-is-a-tty; test -t 1 && echo stdout-is-a-tty; echo TERM=$TERM; echo done",
    ]));
    let status = run.finish(LIMIT);
    let text = run.text();
    assert_eq!(status.code(), Some(0), "terminal output: {text:?}");
    let lines = pty::lines(&text);
    for want in ["/dev/pts/0", "40 100", "stdin-is-a-tty", "stdout-is-a-tty", "TERM=xterm", "done"] {
        assert!(lines.iter().any(|l| l == want), "the terminal should show {want:?}; it showed {text:?}");
    }
    assert_eq!(term.termios(), before, "the terminal's settings were not restored");
}

#[test]
fn interactive_shell_on_a_tty() {
    let env = test_env!("tty_shell");
    let term = Pty::open(24, 80);
    let before = term.termios();
    assert!(!before.is_raw());
    let mut run = term.spawn(env.command(&["run", "-it", "--rm", "busybox", "sh"]));
    run.wait_for("# ", LIMIT);
    assert!(term.termios().is_raw(), "mydocker should put its terminal in raw mode while it runs");
    run.write(b"echo $((6*7))\nexit 3\n");
    let status = run.finish(LIMIT);
    let text = run.text();
    assert_eq!(status.code(), Some(3), "terminal output: {text:?}");
    assert!(pty::lines(&text).iter().any(|l| l == "42"), "the shell's answer 42 should show: {text:?}");
    // Typed once, echoed once: by the container's terminal, not also by ours.
    assert_eq!(text.matches("echo $((6*7))").count(), 1, "input echoed twice: {text:?}");
    assert_eq!(term.termios(), before, "the terminal's settings were not restored");
    assert!(env.container_dirs().is_empty(), "--rm left {:?}", env.container_dirs());
}

#[test]
fn ctrl_c_reaches_the_container_not_mydocker() {
    let env = test_env!("tty_ctrl_c");
    let term = Pty::open(24, 80);
    let before = term.termios();
    let mut run = term.spawn(env.command(&["run", "-it", "--rm", "busybox", "sh"]));
    run.wait_for("# ", LIMIT);
    run.write(b"sleep 100\n");
    std::thread::sleep(Duration::from_millis(500));
    run.write(b"\x03");
    // The sleep is interrupted, the shell (and mydocker) live on.
    run.write(b"echo alive-$((1+1))\n");
    run.wait_for("alive-2\r\n", Duration::from_secs(20));
    run.write(b"exit 5\n");
    let status = run.finish(LIMIT);
    assert_eq!(status.code(), Some(5), "terminal output: {:?}", run.text());
    assert_eq!(term.termios(), before, "the terminal's settings were not restored");
}

#[test]
fn tty_exit_code_and_cleanup_when_the_command_fails() {
    let env = test_env!("tty_exit");
    let name = env.name("t");
    let term = Pty::open(24, 80);
    let before = term.termios();
    let mut run = term.spawn(env.command(&["run", "-it", "--name", &name, "busybox", "sh", "-c", "exit 7"]));
    let status = run.finish(LIMIT);
    assert_eq!(status.code(), Some(7), "terminal output: {:?}", run.text());
    assert_eq!(term.termios(), before, "the terminal's settings were not restored");
    let row = env.row_of(&name).expect("listed after exit");
    assert_eq!(row.get("STATUS"), "Exited (7)", "{}", row.line);
}

#[test]
fn tty_when_mydocker_has_no_terminal() {
    // In a script or CI: -t still gives the command a terminal; mydocker
    // relays its output even though its own stdin and stdout are not one.
    let env = test_env!("tty_no_term");
    let out =
        env.mydocker(&["run", "-t", "--rm", "busybox", "sh", "-c", "tty; test -t 1 && echo out-is-a-tty; exit 4"]);
    out.assert_code(4);
    let lines = pty::lines(&out.stdout);
    assert!(lines.iter().any(|l| l == "/dev/pts/0"), "{out}");
    assert!(lines.iter().any(|l| l == "out-is-a-tty"), "{out}");
}
