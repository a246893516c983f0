//! Images: import, images, rmi, and a tarball that tries to escape.

use std::fs;
use std::path::Path;

use mydocker_tests::{busybox_tar, host, is_full_id, test_env, unique};

/// Fill the numeric fields a well-formed header has.
fn owned_by_root(h: &mut tar::Header, mode: u32) {
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(946_684_800);
}

/// A tar with a harmless file, then the entries named in `evil`, written
/// with raw names (the tar crate's path checks would refuse them).
fn write_tar(path: &Path, good: &str, evil: &[&str]) {
    let mut b = tar::Builder::new(fs::File::create(path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        let raw = &mut h.as_gnu_mut().unwrap().name;
        assert!(name.len() < raw.len());
        raw[..name.len()].copy_from_slice(name.as_bytes());
        h.set_size(data.len() as u64);
        owned_by_root(&mut h, 0o644);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append(&h, data).unwrap();
    };
    add(good, b"good\n");
    for e in evil {
        add(e, b"evil\n");
    }
    b.finish().unwrap();
}

#[test]
fn import_prints_an_id_and_images_lists_it() {
    let env = test_env!("img_list");
    let tar = busybox_tar();
    let out = env.run_ok(&["import", &tar.to_string_lossy(), "second"]);
    let id = out.stdout.trim();
    assert!(is_full_id(id), "import should print a 64-hex image ID\n{out}");
    let rows = env.images();
    let names: Vec<&str> = rows.iter().map(|r| r.get("NAME")).collect();
    assert!(names.contains(&"busybox") && names.contains(&"second"), "images lists {names:?}");
    let bb = rows.iter().find(|r| r.get("NAME") == "busybox").unwrap();
    assert!(env.image_id().starts_with(bb.get("IMAGE ID")) && bb.get("IMAGE ID").len() >= 12, "{}", bb.line);
    assert!(!bb.get("SIZE").is_empty() && !bb.get("CREATED").is_empty(), "{}", bb.line);
    // Both run.
    env.run_ok(&["run", "--rm", "second", "true"]);
    env.run_ok(&["run", "--rm", "busybox", "true"]);
}

#[test]
fn import_of_a_taken_name_fails_and_keeps_the_first() {
    let env = test_env!("img_dup");
    let tar = busybox_tar();
    let out = env.mydocker(&["import", &tar.to_string_lossy(), "busybox"]);
    out.assert_failure();
    assert!(out.stderr.contains("busybox"), "the error should name the image\n{out}");
    let rows = env.images();
    let bbs: Vec<_> = rows.iter().filter(|r| r.get("NAME") == "busybox").collect();
    assert_eq!(bbs.len(), 1, "{rows:?}");
    assert!(env.image_id().starts_with(bbs[0].get("IMAGE ID")));
    let out = env.run_ok(&["run", "--rm", "busybox", "echo", "works"]);
    assert_eq!(out.stdout, "works\n");
}

#[test]
fn import_of_a_missing_file_fails() {
    let env = test_env!("img_missing");
    let missing = env.scratch().join("nothing.tar");
    let out = env.mydocker(&["import", &missing.to_string_lossy(), "nothing"]);
    out.assert_failure();
    assert!(out.stderr.contains("nothing.tar"), "{out}");
    assert!(!env.images().iter().any(|r| r.get("NAME") == "nothing"));
}

#[test]
fn rmi_refused_while_a_container_uses_the_image() {
    let env = test_env!("img_rmi");
    let name = env.name("user");
    env.run_ok(&["run", "--name", &name, "busybox", "true"]);
    let out = env.mydocker(&["rmi", "busybox"]);
    out.assert_failure();
    assert!(env.images().iter().any(|r| r.get("NAME") == "busybox"), "a refused rmi removed the image");
    env.run_ok(&["run", "--rm", "busybox", "true"]);

    env.run_ok(&["rm", &name]);
    env.run_ok(&["rmi", "busybox"]);
    assert!(!env.images().iter().any(|r| r.get("NAME") == "busybox"), "rmi left busybox listed");
    // Its layer is gone from disk: no busybox binary, nothing named by its ID.
    let images = env.root().join("images");
    let left: Vec<_> = host::walk(&images)
        .into_iter()
        .filter(|p| p.ends_with("bin/busybox") || p.to_string_lossy().contains(env.image_id()))
        .collect();
    assert!(left.is_empty(), "rmi left the layer on disk: {left:?}");
    env.mydocker(&["run", "--rm", "busybox", "true"]).assert_code(125);
    env.mydocker(&["rmi", "busybox"]).assert_failure();
}

#[test]
fn import_refuses_paths_that_escape() {
    let env = test_env!("img_evil");
    let good = unique("good");
    let escape = unique("escaped");
    let outside = Path::new("/tmp").join(&escape);
    let deep = format!("../../../../../../../../../../..{}", outside.display());
    for (i, evil) in ["../evil", "a/../../evil", deep.as_str()].iter().enumerate() {
        let tar = env.scratch().join(format!("evil{i}.tar"));
        write_tar(&tar, &good, &[evil]);
        let out = env.mydocker(&["import", &tar.to_string_lossy(), "evil"]);
        out.assert_failure();
        // Refused for its path, not for some other fault of the tarball.
        assert!(out.stderr.contains(evil), "the error should name the entry {evil:?}\n{out}");
        let exists = outside.exists();
        if exists {
            let _ = fs::remove_file(&outside);
        }
        assert!(!exists, "importing an entry {evil:?} wrote {}", outside.display());
        let tmp = env.root().parent().unwrap();
        let stray: Vec<_> = host::walk(tmp).into_iter().filter(|p| p.ends_with("evil") || p.ends_with(&good)).collect();
        assert!(stray.is_empty(), "a refused import of {evil:?} left {stray:?}");
        assert!(!env.images().iter().any(|r| r.get("NAME") == "evil"), "a refused import is listed");
    }
    // The name was not taken by the failures.
    let ok = env.scratch().join("ok.tar");
    write_tar(&ok, &good, &[]);
    env.run_ok(&["import", &ok.to_string_lossy(), "evil"]);
}

#[test]
fn import_does_not_write_through_a_symlink() {
    let env = test_env!("img_symlink");
    let escape = unique("via-link");
    let tar_path = env.scratch().join("link.tar");
    {
        let mut b = tar::Builder::new(fs::File::create(&tar_path).unwrap());
        let mut link = tar::Header::new_gnu();
        link.as_gnu_mut().unwrap().name[..3].copy_from_slice(b"esc");
        link.as_gnu_mut().unwrap().linkname[..4].copy_from_slice(b"/tmp");
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_size(0);
        owned_by_root(&mut link, 0o777);
        link.set_cksum();
        b.append(&link, &[][..]).unwrap();
        let name = format!("esc/{escape}");
        let mut file = tar::Header::new_gnu();
        file.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        file.set_entry_type(tar::EntryType::Regular);
        file.set_size(5);
        owned_by_root(&mut file, 0o644);
        file.set_cksum();
        b.append(&file, &b"evil\n"[..]).unwrap();
        b.finish().unwrap();
    }
    let out = env.mydocker(&["import", &tar_path.to_string_lossy(), "linky"]);
    let outside = Path::new("/tmp").join(&escape);
    let exists = outside.exists();
    if exists {
        let _ = fs::remove_file(&outside);
    }
    assert!(!exists, "import wrote {} through a symlink in the tarball\n{out}", outside.display());
}

#[test]
fn root_from_the_environment() {
    let env = test_env!("img_env_root");
    let mut cmd = std::process::Command::new(mydocker_tests::mydocker_bin());
    cmd.env("MYDOCKER_ROOT", env.root()).arg("images");
    let out = env.run_command(cmd);
    out.assert_success();
    assert!(out.stdout.lines().any(|l| l.starts_with("busybox ")), "MYDOCKER_ROOT was not used\n{out}");
}
