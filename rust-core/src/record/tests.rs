use super::log::{LineSplitter, ReadOptions, Writer};
use super::*;
use crate::spec::RestartPolicy;
use crate::test_utils::TempDir;

fn id(c: char) -> String {
    std::iter::repeat_n(c, 64).collect()
}

fn record(c: char, name: Option<&str>) -> ContainerRecord {
    let spec = ContainerSpec {
        name: name.map(String::from),
        args: vec!["sh".into(), "-c".into(), "exit 3".into()],
        ..ContainerSpec::default()
    };
    ContainerRecord::new(&id(c), &spec)
}

#[test]
fn records_round_trip_and_are_found_by_name_id_and_prefix() {
    let tmp = TempDir::new("records");
    let store = RecordStore::new(&tmp.0);
    let mut rec = record('a', Some("web"));
    rec.spec.auto_remove = false;
    rec.spec.seccomp = crate::spec::Seccomp::DockerJson(b"{}".to_vec().into());
    rec.spec.restart = RestartPolicy::OnFailure(2);
    store.save(&rec).unwrap();
    store.save(&record('b', None)).unwrap();
    assert_eq!(
        store.load(&id('a')).unwrap(),
        rec,
        "the whole spec, seccomp included"
    );
    assert_eq!(store.find("web").unwrap().id, id('a'));
    assert_eq!(store.find("aaaa").unwrap().id, id('a'));
    assert_eq!(store.find(&id('b')).unwrap().id, id('b'));
    assert!(matches!(
        store.find("cc"),
        Err(RecordError::NoSuchContainer(_))
    ));
    assert!(matches!(
        store.find("nope"),
        Err(RecordError::NoSuchContainer(_))
    ));
    let err = store.check_name("web", &id('b')).unwrap_err().to_string();
    assert!(
        err.contains("already in use by container aaaaaaaaaaaa"),
        "{err}"
    );
    store.check_name("web", &id('a')).unwrap();
    let mut gone = record('d', Some("tmp"));
    gone.spec.auto_remove = true;
    store.save(&gone).unwrap();
    store.check_name("tmp", &id('b')).unwrap();
    assert_eq!(store.list().len(), 3);
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&store.dir(&id('a'))), 0o700);
    assert_eq!(mode(&store.dir(&id('a')).join(RECORD_FILE)), 0o600);
}

/// What someone else wrote, or a malformed record, is no record: an id that is not its
/// directory's or not 64 hex digits, a file others can write, a symlink, a bad name or address.
#[test]
fn forged_records_are_ignored() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = TempDir::new("records-forged");
    let store = RecordStore::new(&tmp.0);
    let good = record('c', Some("ok"));
    store.save(&good).unwrap();
    let text = fs::read_to_string(store.dir(&good.id).join(RECORD_FILE)).unwrap();
    let forge = |dir: &str, text: &str| {
        let d = tmp.0.join("containers").join(dir);
        private_fs::create_dir_all(&d).unwrap();
        private_fs::write(&d.join(RECORD_FILE), text.as_bytes()).unwrap();
        store.load(dir)
    };
    assert!(
        forge(&id('d'), &text).is_none(),
        "the id is not its directory's"
    );
    let bad_name = text.replace("\"ok\"", "\"../x\"");
    assert!(
        forge(&id('c'), &bad_name).is_none(),
        "a name that is a path"
    );
    let bad_ip = text.replace("\"ip\":null", "\"ip\":\"10.0.0.300\"");
    assert!(forge(&id('c'), &bad_ip).is_none(), "a malformed address");
    assert!(forge(&id('c'), "not json").is_none());
    assert!(store.load("../containers").is_none());
    forge(&id('c'), &text).unwrap();
    let path = store.dir(&id('c')).join(RECORD_FILE);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o646)).unwrap();
    assert!(store.load(&id('c')).is_none(), "others could write it");
    fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(store.dir(&id('d')).join(RECORD_FILE), &path).unwrap();
    assert!(store.load(&id('c')).is_none(), "a symlink");
}

/// A running record whose monitor and process are both gone has exited, status unknown (255);
/// one whose process still runs is running.
#[test]
fn the_state_of_a_killed_monitor() {
    let me = ProcessId::of(std::process::id() as i32);
    let dead = ProcessId {
        pid: std::process::id() as i32,
        start_time: 1,
    };
    let mut rec = record('e', None);
    rec.state.status = RunStatus::Running;
    rec.state.monitor = dead;
    rec.state.process = me;
    assert_eq!(rec.effective_state().status, RunStatus::Running);
    assert!(rec.is_active());
    rec.state.process = dead;
    let s = rec.effective_state();
    assert_eq!((s.status, s.exit_code), (RunStatus::Exited, EXIT_UNKNOWN));
    assert!(!rec.is_active());
    rec.state.monitor = me;
    assert_eq!(
        rec.effective_state().status,
        RunStatus::Running,
        "its monitor records it"
    );
}

#[test]
fn status_column_and_times_as_docker_prints_them() {
    let s = 1_000_000_000u64;
    let mut rec = record('f', None);
    assert_eq!(rec.status_text(0), "Created");
    rec.state.monitor = ProcessId::of(std::process::id() as i32);
    rec.state.status = RunStatus::Running;
    rec.state.started_at = 10 * s;
    assert_eq!(rec.status_text(13 * s), "Up 3 seconds");
    rec.state.status = RunStatus::Exited;
    rec.state.finished_at = 10 * s;
    assert_eq!(rec.status_text(130 * s), "Exited (0) 2 minutes ago");
    rec.state.finished_at = 0;
    assert_eq!(
        rec.status_text(130 * s),
        "Exited (0)",
        "an unknown end time"
    );
    assert_eq!(human_duration(s / 2), "Less than a second");
    assert_eq!(human_duration(s), "1 second");
    assert_eq!(human_duration(61 * s), "About a minute");
    assert_eq!(human_duration(3600 * s), "About an hour");
    assert_eq!(human_duration(5 * 3600 * s), "5 hours");
    assert_eq!(human_duration(3 * 86400 * s), "3 days");
    assert_eq!(rfc3339(0), "0001-01-01T00:00:00Z");
    assert_eq!(
        rfc3339(1_764_688_445_000_000_007),
        "2025-12-02T15:14:05.000000007Z"
    );
    assert_eq!(rfc3339(951_782_400 * s), "2000-02-29T00:00:00.000000000Z");
}

#[test]
fn restart_policies() {
    assert_eq!(RestartPolicy::parse("no").unwrap(), RestartPolicy::No);
    assert_eq!(
        RestartPolicy::parse("always").unwrap(),
        RestartPolicy::Always
    );
    assert_eq!(
        RestartPolicy::parse("on-failure").unwrap(),
        RestartPolicy::OnFailure(0)
    );
    assert_eq!(
        RestartPolicy::parse("on-failure:3").unwrap(),
        RestartPolicy::OnFailure(3)
    );
    for bad in [
        "",
        "sometimes",
        "on-failure:",
        "on-failure:x",
        "on-failure:-1",
    ] {
        let err = RestartPolicy::parse(bad).unwrap_err().to_string();
        assert!(err.contains("invalid restart policy"), "{bad}: {err}");
    }
    let p = RestartPolicy::OnFailure(2);
    assert!(p.restarts(1, 0) && p.restarts(1, 1) && !p.restarts(1, 2) && !p.restarts(0, 0));
    assert!(RestartPolicy::Always.restarts(0, 100));
    assert!(!RestartPolicy::No.restarts(1, 0));
    let spec = ContainerSpec {
        rootfs: "/".into(),
        restart: RestartPolicy::Always,
        ..ContainerSpec::default()
    };
    let err = spec.validate().unwrap_err().to_string();
    assert!(err.contains("cannot be combined with --rm"), "{err}");
}

#[test]
fn inspect_json_and_format() {
    let tmp = TempDir::new("records-inspect");
    let store = RecordStore::new(&tmp.0);
    let mut rec = record('1', Some("db"));
    rec.spec.network.ports.push(crate::spec::PortMapping {
        host_port: 8080,
        container_port: 80,
        protocol: crate::spec::Protocol::Tcp,
    });
    rec.state.status = RunStatus::Exited;
    rec.state.exit_code = 3;
    let v = inspect::to_json(&rec, &store);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys[0], "Id");
    assert_eq!(v["Path"], "sh");
    assert_eq!(v["Args"], serde_json::json!(["-c", "exit 3"]));
    assert_eq!(
        v["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"],
        "8080"
    );
    let f = |t: &str| inspect::format(&v, t);
    assert_eq!(f("{{.State.ExitCode}}").unwrap(), "3");
    assert_eq!(
        f("{{.Name}} is {{.State.Status}}").unwrap(),
        "/db is exited"
    );
    assert_eq!(
        f("{{json .Config.Cmd}}").unwrap(),
        r#"["sh","-c","exit 3"]"#
    );
    assert_eq!(f("{{ .State.Running }}").unwrap(), "false");
    let err = f("{{.State.Nope}}").unwrap_err().to_string();
    assert!(err.contains("no field \"Nope\""), "{err}");
    assert!(f("{{.State").unwrap_err().to_string().contains("unclosed"));
    assert!(
        f("{{index .X 1}}")
            .unwrap_err()
            .to_string()
            .contains("unsupported")
    );
}

#[test]
fn output_is_cut_into_lines() {
    let mut split = LineSplitter::default();
    assert_eq!(split.push(b"a\nb"), vec![b"a\n".to_vec()]);
    assert_eq!(split.push(b"c\n\n"), vec![b"bc\n".to_vec(), b"\n".to_vec()]);
    assert_eq!(split.push(b"tail"), Vec::<Vec<u8>>::new());
    assert_eq!(split.finish(), Some(b"tail".to_vec()));
    let long = vec![b'x'; 40 * 1024];
    assert_eq!(split.push(&long).len(), 2, "16 KiB pieces, as Docker's");
}

#[test]
fn log_lines_in_json_file_shape() {
    let tmp = TempDir::new("records-log");
    let path = tmp.0.join("log");
    let mut w = Writer::open(&path).unwrap();
    for (stream, line) in [
        ("stdout", "one\n"),
        ("stderr", "err\n"),
        ("stdout", "two\n"),
    ] {
        w.write(stream, line.as_bytes()).unwrap();
    }
    let first = fs::read_to_string(&path).unwrap();
    let first = first.lines().next().unwrap();
    let e: log::Entry = serde_json::from_str(first).unwrap();
    assert_eq!((e.log.as_str(), e.stream.as_str()), ("one\n", "stdout"));
    assert!(
        first.starts_with(r#"{"log":"one\n","stream":"stdout","time":"20"#),
        "{first}"
    );
    let read = |opts: ReadOptions| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        log::print(&path, opts, &mut out, &mut err, &mut || false).unwrap();
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    };
    assert_eq!(
        read(ReadOptions::default()),
        ("one\ntwo\n".into(), "err\n".into())
    );
    let tail = ReadOptions {
        tail: Some(1),
        ..ReadOptions::default()
    };
    assert_eq!(read(tail).0, "two\n");
    let stamped = read(ReadOptions {
        timestamps: true,
        ..ReadOptions::default()
    });
    assert!(
        stamped.0.starts_with("20") && stamped.0.contains("Z one\n"),
        "{}",
        stamped.0
    );
    // A torn last line (a monitor killed in a write) is not shown.
    fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(br#"{"log":"to"#)
        .unwrap();
    assert_eq!(read(ReadOptions::default()).0, "one\ntwo\n");
    let missing = tmp.0.join("none");
    let mut sink = Vec::new();
    log::print(
        &missing,
        ReadOptions::default(),
        &mut sink,
        &mut Vec::new(),
        &mut || false,
    )
    .unwrap();
    assert!(sink.is_empty(), "a missing log is an empty one");
}

#[test]
fn exit_codes_for_wait_expire() {
    let tmp = TempDir::new("records-exits");
    exits::write(&tmp.0, &id('9'), 7);
    assert_eq!(exits::read(&tmp.0, &id('9')), Some(7));
    assert_eq!(exits::read(&tmp.0, "../x"), None);
    assert_eq!(exits::expire(&tmp.0), 0, "a fresh one stays");
}
