//! Store tests on archives built here, in memory and in temp dirs: the formats, the store's
//! operations and files, and one test per hostile archive (refused, nothing written outside
//! the store, nothing half-done inside). Tests that need root are gated by `test_as_root`.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;

// ---- layer tars ----

#[derive(Clone)]
struct Entry {
    path: String,
    kind: tar::EntryType,
    data: Vec<u8>,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    link: String,
    dev: (u32, u32),
    xattrs: Vec<(String, Vec<u8>)>,
}

fn entry(path: &str, kind: tar::EntryType) -> Entry {
    Entry {
        path: path.into(),
        kind,
        data: Vec::new(),
        mode: if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        },
        uid: 0,
        gid: 0,
        mtime: 1_600_000_000,
        link: String::new(),
        dev: (0, 0),
        xattrs: Vec::new(),
    }
}

fn dir(path: &str) -> Entry {
    entry(path, tar::EntryType::Directory)
}

fn file(path: &str, data: &[u8]) -> Entry {
    Entry {
        data: data.to_vec(),
        ..entry(path, tar::EntryType::Regular)
    }
}

fn symlink(path: &str, target: &str) -> Entry {
    Entry {
        link: target.into(),
        mode: 0o777,
        ..entry(path, tar::EntryType::Symlink)
    }
}

fn hardlink(path: &str, target: &str) -> Entry {
    Entry {
        link: target.into(),
        ..entry(path, tar::EntryType::Link)
    }
}

impl Entry {
    fn mode(mut self, m: u32) -> Self {
        self.mode = m;
        self
    }
    fn owner(mut self, uid: u64, gid: u64) -> Self {
        self.uid = uid;
        self.gid = gid;
        self
    }
    fn mtime(mut self, t: u64) -> Self {
        self.mtime = t;
        self
    }
    fn xattr(mut self, k: &str, v: &[u8]) -> Self {
        self.xattrs.push((k.into(), v.to_vec()));
        self
    }
}

/// A tar with headers written byte for byte (the tar crate's builder refuses hostile paths,
/// which is exactly what these tests need to write).
fn tar_of(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut pax: Vec<(String, Vec<u8>)> = e
            .xattrs
            .iter()
            .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.clone()))
            .collect();
        if e.path.len() > 100 {
            pax.push(("path".into(), e.path.as_bytes().to_vec()));
        }
        if !pax.is_empty() {
            b.append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
                .unwrap();
        }
        let mut h = tar::Header::new_gnu();
        {
            let g = h.as_gnu_mut().unwrap();
            let n = e.path.len().min(100);
            g.name[..n].copy_from_slice(&e.path.as_bytes()[..n]);
            g.linkname[..e.link.len()].copy_from_slice(e.link.as_bytes());
        }
        h.set_entry_type(e.kind);
        h.set_size(e.data.len() as u64);
        h.set_mode(e.mode);
        h.set_uid(e.uid);
        h.set_gid(e.gid);
        h.set_mtime(e.mtime);
        if matches!(e.kind, tar::EntryType::Char | tar::EntryType::Block) {
            h.set_device_major(e.dev.0).unwrap();
            h.set_device_minor(e.dev.1).unwrap();
        }
        h.set_cksum();
        b.append(&h, e.data.as_slice()).unwrap();
    }
    b.into_inner().unwrap()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

// ---- images and archives ----

/// An image: its config and its layers (uncompressed tars), with the blobs as they will be
/// stored in an archive (gzip or not).
#[derive(Clone)]
struct Img {
    config: Vec<u8>,
    id: Digest,
    tars: Vec<Vec<u8>>,
    blobs: Vec<Vec<u8>>,
    gzip: bool,
    diff_ids: Vec<Digest>,
    tags: Vec<String>,
}

fn img(tars: Vec<Vec<u8>>, gzip: bool, run: Value, tags: &[&str]) -> Img {
    let diff_ids: Vec<Digest> = tars.iter().map(|t| Digest::of(t)).collect();
    img_with_diff_ids(tars, gzip, run, tags, diff_ids)
}

fn img_with_diff_ids(
    tars: Vec<Vec<u8>>,
    gzip: bool,
    run: Value,
    tags: &[&str],
    diff_ids: Vec<Digest>,
) -> Img {
    let config = serde_json::to_vec(&json!({
        "architecture": native_arch(),
        "os": "linux",
        "created": "2024-01-02T03:04:05Z",
        "config": run,
        "rootfs": {"type": "layers", "diff_ids": diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>()},
    }))
    .unwrap();
    let blobs = tars
        .iter()
        .map(|t| if gzip { gz(t) } else { t.clone() })
        .collect();
    Img {
        id: Digest::of(&config),
        config,
        tars,
        blobs,
        gzip,
        diff_ids,
        tags: tags.iter().map(|s| s.to_string()).collect(),
    }
}

type Files = BTreeMap<String, Vec<u8>>;

/// Files as a tar archive (members in name order, as docker save writes them).
fn archive(files: &Files) -> Vec<u8> {
    archive_with_links(files, &[])
}

/// Files, then symbolic links (name, target), as a tar archive.
fn archive_with_links(files: &Files, links: &[(String, String)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    for (name, target) in links {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, name, target).unwrap();
    }
    b.into_inner().unwrap()
}

fn write_files(files: &Files, dir: &Path) {
    for (name, data) in files {
        let p = dir.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, data).unwrap();
    }
}

/// `docker save` before Docker 25: <v1 id>/layer.tar, <id>.json, manifest.json; a layer used
/// twice is a symbolic link to the first copy, as docker writes it.
fn docker_classic(imgs: &[&Img]) -> (Files, Vec<(String, String)>) {
    let mut files = Files::new();
    let mut links = Vec::new();
    let mut manifest = Vec::new();
    let mut seen: BTreeMap<Digest, String> = BTreeMap::new();
    for im in imgs {
        let mut layers = Vec::new();
        for (i, blob) in im.blobs.iter().enumerate() {
            let v1 = Digest::of(format!("{}{i}", im.id).as_bytes())
                .hex()
                .to_string();
            let path = format!("{v1}/layer.tar");
            match seen.get(&im.diff_ids[i]) {
                Some(first) => links.push((path.clone(), format!("../{first}"))),
                None => {
                    files.insert(path.clone(), blob.clone());
                    seen.insert(im.diff_ids[i].clone(), path.clone());
                }
            }
            layers.push(path);
        }
        files.insert(format!("{}.json", im.id.hex()), im.config.clone());
        manifest.push(json!({"Config": format!("{}.json", im.id.hex()), "RepoTags": im.tags, "Layers": layers}));
    }
    files.insert(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    );
    (files, links)
}

fn classic_tar(imgs: &[&Img]) -> Vec<u8> {
    let (files, links) = docker_classic(imgs);
    archive_with_links(&files, &links)
}

fn layer_media(gzip: bool) -> &'static str {
    if gzip {
        "application/vnd.oci.image.layer.v1.tar+gzip"
    } else {
        "application/vnd.oci.image.layer.v1.tar"
    }
}

fn desc(media: &str, bytes: &[u8]) -> Value {
    json!({"mediaType": media, "digest": Digest::of(bytes).to_string(), "size": bytes.len()})
}

fn blob(files: &mut Files, bytes: &[u8]) {
    files.insert(
        format!("blobs/sha256/{}", Digest::of(bytes).hex()),
        bytes.to_vec(),
    );
}

/// The manifest of an image, with its blobs added to `files`.
fn oci_manifest(files: &mut Files, im: &Img) -> Vec<u8> {
    blob(files, &im.config);
    let layers: Vec<Value> = im
        .blobs
        .iter()
        .map(|b| {
            blob(files, b);
            desc(layer_media(im.gzip), b)
        })
        .collect();
    let m = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.oci.image.config.v1+json", &im.config),
        "layers": layers,
    }))
    .unwrap();
    blob(files, &m);
    m
}

/// Docker 25's `docker save`: the same files as an OCI layout, plus manifest.json.
fn docker_new(imgs: &[&Img]) -> Files {
    let mut files = Files::new();
    let mut manifest = Vec::new();
    let mut index = Vec::new();
    for im in imgs {
        let m = oci_manifest(&mut files, im);
        manifest.push(json!({
            "Config": format!("blobs/sha256/{}", im.id.hex()),
            "RepoTags": im.tags,
            "Layers": im.blobs.iter().map(|b| format!("blobs/sha256/{}", Digest::of(b).hex())).collect::<Vec<_>>(),
        }));
        let mut d = desc("application/vnd.oci.image.manifest.v1+json", &m);
        if let Some(t) = im.tags.first() {
            d["annotations"] = json!({"io.containerd.image.name": t, "org.opencontainers.image.ref.name": "latest"});
        }
        index.push(d);
    }
    files.insert(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    );
    files.insert(
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    );
    files.insert(
        "index.json".into(),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": index})).unwrap(),
    );
    files
}

/// An OCI layout. With `nested`, each image sits in an inner index beside a manifest for
/// another platform whose config blob is missing (so reading it would fail the load).
fn oci_layout(imgs: &[(&Img, Option<&str>)], nested: bool) -> Files {
    let mut files = Files::new();
    let mut index = Vec::new();
    for (im, name) in imgs {
        let m = oci_manifest(&mut files, im);
        let mut d = desc("application/vnd.oci.image.manifest.v1+json", &m);
        if nested {
            let other_arch = if native_arch() == "arm64" {
                "amd64"
            } else {
                "arm64"
            };
            let foreign = serde_json::to_vec(&json!({
                "schemaVersion": 2,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": Digest::of(b"absent").to_string(), "size": 6},
                "layers": [],
            }))
            .unwrap();
            blob(&mut files, &foreign);
            let mut fd = desc("application/vnd.oci.image.manifest.v1+json", &foreign);
            fd["platform"] = json!({"os": "linux", "architecture": other_arch});
            d["platform"] = json!({"os": "linux", "architecture": native_arch()});
            let inner = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [fd, d]})).unwrap();
            blob(&mut files, &inner);
            d = desc("application/vnd.oci.image.index.v1+json", &inner);
        }
        if let Some(n) = name {
            d["annotations"] = json!({"org.opencontainers.image.ref.name": n});
        }
        index.push(d);
    }
    files.insert(
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    );
    files.insert(
        "index.json".into(),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": index})).unwrap(),
    );
    files
}

// ---- fixture ----

struct Fx {
    _tmp: tempfile::TempDir,
    base: PathBuf,
    store: Store,
    victim: PathBuf,
}

fn fx() -> Fx {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    let store = Store::open(base.join("store")).unwrap();
    let victim = base.join("victim");
    fs::create_dir(&victim).unwrap();
    Fx {
        _tmp: tmp,
        base,
        store,
        victim,
    }
}

impl Fx {
    fn put(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.base.join(name);
        fs::write(&p, bytes).unwrap();
        p
    }

    fn load_bytes(&self, bytes: &[u8]) -> Result<LoadReport> {
        let p = self.put("archive.tar", bytes);
        self.store.load(Source::Path(&p))
    }

    fn entries(&self, sub: &str) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.store.root().join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// Nothing outside the store was written, nothing is left half-done inside.
    fn assert_clean(&self) {
        assert_eq!(
            fs::read_dir(&self.victim).unwrap().count(),
            0,
            "something was written outside the store"
        );
        for sub in ["layers", "images", "tmp"] {
            assert_eq!(
                self.entries(sub),
                Vec::<String>::new(),
                "{sub}/ is not empty"
            );
        }
        assert!(self.store.list().unwrap().is_empty());
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn familiar(names: &[Reference]) -> Vec<String> {
    names.iter().map(Reference::familiar).collect()
}

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

fn base_layer() -> Vec<u8> {
    tar_of(&[
        dir("./"),
        dir("etc"),
        file("etc/hostname", b"base\n"),
        dir("bin"),
        file("bin/sh", b"#!shell").mode(0o755).mtime(1_234_567),
        symlink("bin/ls", "sh"),
        hardlink("bin/sh2", "bin/sh"),
        file("deep/er/implicit", b"parents made for me"),
        file("fifo-less", b""),
    ])
}

fn top_layer() -> Vec<u8> {
    tar_of(&[file("etc/hostname", b"top\n"), file("usr/new", b"new")])
}

fn run_config() -> Value {
    json!({
        "Env": ["PATH=/usr/bin:/bin", "GREETING=hello"],
        "Entrypoint": ["/bin/sh", "-c"],
        "Cmd": ["echo $GREETING"],
        "WorkingDir": "/srv",
        "User": "1000:1000",
        "ExposedPorts": {"8080/tcp": {}, "53/udp": {}},
        "Labels": {"org.example": "yes"},
        "Volumes": null,
    })
}

/// The checks every format shares: names, config, layers unpacked with their content.
fn check_loaded(f: &Fx, im: &Img, key: &str) {
    let got = f
        .store
        .resolve(key)
        .unwrap_or_else(|e| panic!("resolve {key}: {e}"));
    assert_eq!(got.id, im.id);
    assert_eq!(got.layers, im.diff_ids);
    assert_eq!(got.layer_dirs.len(), 2);
    let (low, high) = (&got.layer_dirs[0], &got.layer_dirs[1]);
    assert_eq!(fs::read(low.join("etc/hostname")).unwrap(), b"base\n");
    assert_eq!(fs::read(high.join("etc/hostname")).unwrap(), b"top\n");
    assert_eq!(fs::read_link(low.join("bin/ls")).unwrap(), Path::new("sh"));
    let sh = fs::metadata(low.join("bin/sh")).unwrap();
    assert_eq!(
        sh.ino(),
        fs::metadata(low.join("bin/sh2")).unwrap().ino(),
        "hard link"
    );
    assert_eq!(sh.mode() & 0o7777, 0o755);
    assert_eq!(sh.mtime(), 1_234_567);
    assert_eq!(
        fs::read(low.join("deep/er/implicit")).unwrap(),
        b"parents made for me"
    );
    assert_eq!(mode(&low.join("deep")), 0o755, "implicit parents are 0755");
    assert_eq!(
        got.overlay_lowerdir(),
        format!("{}:{}", high.display(), low.display())
    );
    let c = &got.config;
    assert_eq!(c.env, strings(&["PATH=/usr/bin:/bin", "GREETING=hello"]));
    assert_eq!(c.entrypoint, Some(strings(&["/bin/sh", "-c"])));
    assert_eq!(c.cmd, Some(strings(&["echo $GREETING"])));
    assert_eq!(c.working_dir.as_deref(), Some("/srv"));
    assert_eq!(c.user.as_deref(), Some("1000:1000"));
    assert_eq!(c.exposed_ports, strings(&["53/udp", "8080/tcp"]));
    assert_eq!(c.labels.get("org.example").map(String::as_str), Some("yes"));
    assert_eq!(got.os, "linux");
    assert_eq!(got.architecture, native_arch());
    assert_eq!(got.created.as_deref(), Some("2024-01-02T03:04:05Z"));
    assert_eq!(
        got.size,
        im.tars.iter().map(|t| t.len() as u64).sum::<u64>()
    );
    assert_eq!(
        f.entries("tmp"),
        Vec::<String>::new(),
        "tmp/ is empty after a load"
    );
}

// ---- formats ----

#[test]
fn docker_save_classic_loads_layers_config_and_tags() {
    let f = fx();
    let im = img(
        vec![base_layer(), top_layer()],
        false,
        run_config(),
        &["busybox:latest", "localhost/mine:1"],
    );
    let report = f.load_bytes(&classic_tar(&[&im])).unwrap();
    assert_eq!(report.images.len(), 1);
    assert_eq!(report.images[0].id, im.id);
    assert_eq!(
        familiar(&report.images[0].names),
        strings(&["busybox:latest", "localhost/mine:1"])
    );
    check_loaded(&f, &im, "busybox");
    check_loaded(&f, &im, "docker.io/library/busybox:latest");
    check_loaded(&f, &im, "mine:1"); // podman's localhost/ names answer to the short name
    check_loaded(&f, &im, im.id.short());
    check_loaded(&f, &im, im.id.as_str());
    check_loaded(&f, &im, im.id.hex());
    assert!(matches!(
        f.store.resolve("busybox:other"),
        Err(ImageError::NotFound(_))
    ));
    let listed = f.store.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        familiar(&listed[0].names),
        strings(&["busybox:latest", "localhost/mine:1"])
    );
    // Loading again changes nothing.
    let again = f.load_bytes(&classic_tar(&[&im])).unwrap();
    assert_eq!(again.images[0].id, im.id);
    assert!(again.warnings.is_empty(), "{:?}", again.warnings);
    assert_eq!(f.entries("layers").len(), 2);
    assert_eq!(f.entries("images"), vec![im.id.hex().to_string()]);
}

#[test]
fn store_files_are_private_and_keyed_by_digest() {
    let f = fx();
    let im = img(
        vec![base_layer(), top_layer()],
        false,
        run_config(),
        &["busybox:latest"],
    );
    f.load_bytes(&classic_tar(&[&im])).unwrap();
    let r = f.store.root();
    assert_eq!(mode(r), 0o700);
    for d in ["images", "layers", "tmp"] {
        assert_eq!(mode(&r.join(d)), 0o700, "{d}");
    }
    assert_eq!(mode(&r.join("repositories.json")), 0o600);
    assert_eq!(mode(&r.join(".lock")), 0o600);
    let idir = r.join("images").join(im.id.hex());
    assert_eq!(mode(&idir), 0o700);
    assert_eq!(mode(&idir.join("config.json")), 0o600);
    assert_eq!(
        fs::read(idir.join("config.json")).unwrap(),
        im.config,
        "the config is kept byte for byte"
    );
    for d in &im.diff_ids {
        let l = r.join("layers").join(d.hex());
        assert_eq!(mode(&l), 0o700);
        assert_eq!(mode(&l.join("layer.json")), 0o600);
        assert_eq!(
            mode(&l.join("diff")),
            0o755,
            "a layer root is a container's /"
        );
    }
    let names: Value =
        serde_json::from_slice(&fs::read(r.join("repositories.json")).unwrap()).unwrap();
    assert_eq!(
        names["names"]["docker.io/library/busybox:latest"],
        json!(im.id.to_string())
    );
}

#[test]
fn a_layer_used_twice_in_a_classic_archive_is_read_through_its_link() {
    let f = fx();
    let same = tar_of(&[file("a", b"1")]);
    let im = img(
        vec![same.clone(), top_layer(), same],
        false,
        json!({"Cmd": ["sh"]}),
        &["dup:1"],
    );
    let bytes = classic_tar(&[&im]);
    f.load_bytes(&bytes).unwrap();
    let got = f.store.resolve("dup:1").unwrap();
    assert_eq!(got.layer_dirs.len(), 3);
    assert_eq!(got.layer_dirs[0], got.layer_dirs[2]);
    assert_eq!(f.entries("layers").len(), 2);
}

#[test]
fn docker_save_new_layout_with_gzip_layers() {
    let f = fx();
    let im = img(
        vec![base_layer(), top_layer()],
        true,
        run_config(),
        &["busybox:latest"],
    );
    let files = docker_new(&[&im]);
    let report = f.load_bytes(&archive(&files)).unwrap();
    assert_eq!(
        familiar(&report.images[0].names),
        strings(&["busybox:latest"])
    );
    check_loaded(&f, &im, "busybox:latest");
}

#[test]
fn docker_save_of_several_images() {
    let f = fx();
    let a = img(
        vec![base_layer(), top_layer()],
        false,
        run_config(),
        &["a:1", "a:2"],
    );
    let b = img(
        vec![base_layer(), tar_of(&[file("b", b"b")])],
        false,
        json!({"Cmd": ["b"]}),
        &["b:1"],
    );
    let report = f.load_bytes(&classic_tar(&[&a, &b])).unwrap();
    assert_eq!(report.images.len(), 2);
    assert_eq!(
        f.entries("layers").len(),
        3,
        "the shared base layer is stored once"
    );
    assert_eq!(f.store.resolve("a:2").unwrap().id, a.id);
    assert_eq!(
        f.store.resolve("b:1").unwrap().config.cmd,
        Some(strings(&["b"]))
    );
}

#[test]
fn oci_layout_directory_picks_the_native_platform_from_a_nested_index() {
    let f = fx();
    let im = img(vec![base_layer(), top_layer()], false, run_config(), &[]);
    let files = oci_layout(&[(&im, Some("localhost/oci:v1"))], true);
    let dir = f.base.join("layout");
    write_files(&files, &dir);
    let report = f.store.load(Source::Path(&dir)).unwrap();
    assert_eq!(
        familiar(&report.images[0].names),
        strings(&["localhost/oci:v1"])
    );
    check_loaded(&f, &im, "localhost/oci:v1");
}

#[test]
fn oci_archive_with_gzip_layers_and_a_bare_tag_name() {
    let f = fx();
    let a = img(vec![base_layer(), top_layer()], true, run_config(), &[]);
    let b = img(
        vec![tar_of(&[file("x", b"x")])],
        true,
        json!({"Cmd": ["x"]}),
        &[],
    );
    let files = oci_layout(
        &[(&a, Some("quay.io/org/a:2")), (&b, Some("latest"))],
        false,
    );
    let report = f.load_bytes(&archive(&files)).unwrap();
    assert_eq!(report.images.len(), 2);
    assert_eq!(
        familiar(&report.images[0].names),
        strings(&["quay.io/org/a:2"])
    );
    assert!(
        report.images[1].names.is_empty(),
        "a bare tag names no repository"
    );
    assert!(
        report.warnings.iter().any(|w| w.contains("untagged")),
        "{:?}",
        report.warnings
    );
    check_loaded(&f, &a, "quay.io/org/a:2");
    assert_eq!(
        f.store.resolve(b.id.short()).unwrap().config.cmd,
        Some(strings(&["x"]))
    );
}

#[test]
fn a_gzip_compressed_archive_loads_from_a_stream() {
    let f = fx();
    let im = img(
        vec![base_layer(), top_layer()],
        false,
        run_config(),
        &["busybox:latest"],
    );
    let bytes = gz(&classic_tar(&[&im]));
    let report = f.store.load(Source::Reader(&mut bytes.as_slice())).unwrap();
    assert_eq!(report.images[0].id, im.id);
    check_loaded(&f, &im, "busybox");
    // And from a .tar.gz file.
    let g = fx();
    let p = g.put("a.tar.gz", &gz(&archive(&docker_new(&[&im]))));
    g.store.load(Source::Path(&p)).unwrap();
    check_loaded(&g, &im, "busybox");
    assert_eq!(
        g.entries("tmp"),
        Vec::<String>::new(),
        "the spooled copy is gone"
    );
}

// long: one scenario, step by step, as a user goes through it.
#[test]
fn import_makes_a_one_layer_image() {
    let f = fx();
    let rootfs = base_layer();
    for (i, bytes) in [rootfs.clone(), gz(&rootfs)].iter().enumerate() {
        let p = f.put(&format!("rootfs{i}.tar"), bytes);
        let cfg = RunConfig {
            cmd: Some(strings(&["/bin/sh"])),
            env: strings(&["A=1"]),
            working_dir: Some("/w".into()),
            ..Default::default()
        };
        let (loaded, warnings) = f
            .store
            .import(
                Source::Path(&p),
                &ImportOptions {
                    name: Some("imported:v1"),
                    config: cfg,
                    comment: None,
                },
            )
            .unwrap();
        if i == 0 {
            assert!(warnings.is_empty(), "{warnings:?}");
        } else {
            // Another comment, another config, another id: the name moves, as in Docker.
            assert!(
                warnings.iter().any(|w| w.contains("already existed")),
                "{warnings:?}"
            );
        }
        let got = f.store.resolve("imported:v1").unwrap();
        assert_eq!(got.id, loaded.id);
        assert_eq!(
            got.layers,
            vec![Digest::of(&rootfs)],
            "the diff_id is the uncompressed digest"
        );
        assert_eq!(
            fs::read(got.layer_dirs[0].join("etc/hostname")).unwrap(),
            b"base\n"
        );
        assert_eq!(got.config.cmd, Some(strings(&["/bin/sh"])));
        assert_eq!(got.config.env, strings(&["A=1"]));
        assert_eq!(got.config.working_dir.as_deref(), Some("/w"));
        assert_eq!(got.architecture, native_arch());
        assert!(
            got.created
                .as_deref()
                .is_some_and(|c| c.len() == 20 && c.ends_with('Z')),
            "{:?}",
            got.created
        );
    }
    assert_eq!(f.entries("layers").len(), 1, "the same rootfs is one layer");
    // Unnamed import, from a stream.
    let mut r = rootfs.as_slice();
    let (loaded, _) = f
        .store
        .import(Source::Reader(&mut r), &ImportOptions::default())
        .unwrap();
    assert!(loaded.names.is_empty());
    assert!(f.store.resolve(loaded.id.as_str()).is_ok());
    // A bad name is refused before anything is read.
    let err = f.store.import(
        Source::Reader(&mut rootfs.as_slice()),
        &ImportOptions {
            name: Some("Bad:Name"),
            ..Default::default()
        },
    );
    assert!(
        matches!(err, Err(ImageError::InvalidReference { .. })),
        "{err:?}"
    );
    let dir = f.base.clone();
    let err = f
        .store
        .import(Source::Path(&dir), &ImportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn rfc3339_formats_utc() {
    assert_eq!(store::rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(store::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(store::rfc3339(1_704_164_645), "2024-01-02T03:04:05Z");
}

// ---- store operations ----

fn small(tag: &str, content: &[u8]) -> Img {
    img(
        vec![base_layer(), tar_of(&[file("own", content)])],
        false,
        json!({"Cmd": ["sh"]}),
        &[tag],
    )
}

// long: one scenario, step by step, as a user goes through it.
#[test]
fn tag_list_resolve_and_remove_follow_docker() {
    let f = fx();
    let a = small("app:1", b"a");
    let b = small("other:1", b"b");
    f.load_bytes(&classic_tar(&[&a, &b])).unwrap();
    assert_eq!(
        f.store.tag("app:1", "app:latest").unwrap().familiar(),
        "app:latest"
    );
    assert_eq!(
        f.store
            .tag(a.id.short(), "registry.local:5000/team/app:v2")
            .unwrap()
            .to_string(),
        "registry.local:5000/team/app:v2"
    );
    assert!(matches!(
        f.store.tag("nope", "x:1"),
        Err(ImageError::NotFound(_))
    ));
    assert!(matches!(
        f.store.tag("app:1", "UPPER"),
        Err(ImageError::InvalidReference { .. })
    ));
    let got = f.store.resolve("app").unwrap();
    assert_eq!(
        familiar(&got.names),
        strings(&["app:1", "app:latest", "registry.local:5000/team/app:v2"])
    );

    // A common prefix of both ids is ambiguous; "sha256:" may come first.
    let common =
        a.id.hex()
            .chars()
            .zip(b.id.hex().chars())
            .take_while(|(x, y)| x == y)
            .count();
    if common >= 3 {
        assert!(matches!(
            f.store.resolve(&a.id.hex()[..common]),
            Err(ImageError::Ambiguous { .. })
        ));
    }
    assert_eq!(
        f.store
            .resolve(&format!("sha256:{}", &a.id.hex()[..12]))
            .unwrap()
            .id,
        a.id
    );
    assert!(
        matches!(f.store.resolve("ab"), Err(ImageError::NotFound(_))),
        "two hex digits are not an id prefix"
    );

    // By id, with several names: must be forced.
    let err = f
        .store
        .remove(a.id.short(), &RemoveOptions::default())
        .unwrap_err();
    assert!(matches!(err, ImageError::MultipleNames { .. }), "{err}");
    // By name: untags only, while other names remain.
    let r = f
        .store
        .remove("app:latest", &RemoveOptions::default())
        .unwrap();
    assert_eq!(familiar(&r.untagged), strings(&["app:latest"]));
    assert_eq!(r.deleted, None);
    f.store
        .remove("registry.local:5000/team/app:v2", &RemoveOptions::default())
        .unwrap();
    // In use by a container: the last name cannot go without force, and with force the image stays.
    let a_id = a.id.clone();
    let uses_a = move |id: &Digest| *id == a_id;
    let in_use = RemoveOptions {
        force: false,
        in_use: &uses_a,
    };
    assert!(matches!(
        f.store.remove("app:1", &in_use),
        Err(ImageError::InUse { .. })
    ));
    assert!(matches!(
        f.store.remove(a.id.as_str(), &in_use),
        Err(ImageError::InUse { .. })
    ));
    let forced = f
        .store
        .remove(
            "app:1",
            &RemoveOptions {
                force: true,
                in_use: &uses_a,
            },
        )
        .unwrap();
    assert_eq!(familiar(&forced.untagged), strings(&["app:1"]));
    assert_eq!(forced.deleted, None, "a container's image is never deleted");
    let dangling = f.store.resolve(a.id.short()).unwrap();
    assert!(dangling.names.is_empty());
    assert_eq!(f.store.list().unwrap().len(), 2);
    // No longer in use: removing by id deletes it and its own layer, not the shared base.
    let r = f
        .store
        .remove(a.id.short(), &RemoveOptions::default())
        .unwrap();
    assert_eq!(r.deleted, Some(a.id.clone()));
    assert_eq!(r.deleted_layers, vec![a.diff_ids[1].clone()]);
    assert!(f.store.resolve(a.id.short()).is_err());
    assert!(
        f.store
            .resolve("other:1")
            .unwrap()
            .layer_dirs
            .iter()
            .all(|d| d.is_dir())
    );
    // The last image takes the base layer with it.
    assert!(
        matches!(
            f.store.remove("other", &RemoveOptions::default()),
            Err(ImageError::NotFound(_))
        ),
        "other means other:latest"
    );
    let r = f
        .store
        .remove("other:1", &RemoveOptions::default())
        .unwrap();
    assert_eq!(r.deleted, Some(b.id.clone()));
    assert_eq!(r.deleted_layers.len(), 2);
    assert!(matches!(
        f.store.remove("other", &RemoveOptions::default()),
        Err(ImageError::NotFound(_))
    ));
    f.assert_clean();
}

#[test]
fn with_image_holds_the_lock_against_remove() {
    let f = fx();
    f.load_bytes(&classic_tar(&[&small("app:1", b"a")]))
        .unwrap();
    let store = f.store.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let recorded = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = recorded.clone();
    let remover = std::thread::spawn(move || {
        rx.recv().unwrap();
        let in_use = |_: &Digest| flag.load(std::sync::atomic::Ordering::SeqCst);
        store.remove(
            "app:1",
            &RemoveOptions {
                force: false,
                in_use: &in_use,
            },
        )
    });
    f.store
        .with_image("app:1", |img| {
            tx.send(()).unwrap();
            // The remover now waits for the lock; record the container, as the run path would.
            std::thread::sleep(std::time::Duration::from_millis(100));
            assert!(img.layer_dirs.iter().all(|d| d.is_dir()));
            recorded.store(true, std::sync::atomic::Ordering::SeqCst);
        })
        .unwrap();
    assert!(matches!(
        remover.join().unwrap(),
        Err(ImageError::InUse { .. })
    ));
}

#[test]
fn concurrent_loads_tags_and_removes_keep_the_store_consistent() {
    let f = fx();
    let archives: Vec<PathBuf> = (0..4)
        .map(|i| {
            f.put(
                &format!("img{i}.tar"),
                &classic_tar(&[&small(&format!("img{i}:1"), format!("own {i}").as_bytes())]),
            )
        })
        .collect();
    std::thread::scope(|s| {
        for (i, path) in archives.iter().enumerate() {
            let store = &f.store;
            s.spawn(move || {
                for round in 0..6 {
                    let r = store.load(Source::Path(path)).unwrap();
                    let name = format!("img{i}:1");
                    // The shared base layer must be there whatever the others remove.
                    let img = store.resolve(&name).unwrap();
                    assert!(
                        img.layer_dirs
                            .iter()
                            .all(|d| d.join("etc/hostname").exists() || d.join("own").exists())
                    );
                    store.tag(&name, &format!("img{i}:r{round}")).unwrap();
                    store
                        .remove(&format!("img{i}:r{round}"), &RemoveOptions::default())
                        .unwrap();
                    store
                        .remove(r.images[0].id.as_str(), &RemoveOptions::default())
                        .unwrap();
                }
            });
        }
        s.spawn(|| {
            for _ in 0..10 {
                f.store.gc().unwrap();
            }
        });
    });
    f.store.gc().unwrap();
    f.assert_clean();
    let names: Value =
        serde_json::from_slice(&fs::read(f.store.root().join("repositories.json")).unwrap())
            .unwrap();
    assert_eq!(names["names"], json!({}));
}

#[test]
fn store_files_are_validated_when_read() {
    let f = fx();
    let im = small("app:1", b"a");
    f.load_bytes(&classic_tar(&[&im])).unwrap();
    let root = f.store.root().to_path_buf();
    let names_path = root.join("repositories.json");
    let good = fs::read(&names_path).unwrap();
    let bad_index = [
        json!({"version": 1, "names": {"docker.io/library/app:1": "sha256:../../../etc"}}),
        json!({"version": 1, "names": {"../../etc/passwd": im.id.to_string()}}),
        json!({"version": 1, "names": {"app:1": im.id.to_string()}}),
        json!({"version": 2, "names": {}}),
        json!({"names": {}}),
    ];
    for bad in bad_index {
        fs::write(&names_path, serde_json::to_vec(&bad).unwrap()).unwrap();
        let err = f.store.resolve("app:1").unwrap_err();
        assert!(matches!(err, ImageError::Corrupt { .. }), "{bad}: {err}");
        assert!(
            f.store.tag(im.id.short(), "x:1").is_err(),
            "nothing is written over a corrupt index"
        );
    }
    fs::write(&names_path, &good).unwrap();
    // A tampered config no longer matches its id.
    let cfg = root.join("images").join(im.id.hex()).join("config.json");
    let orig = fs::read(&cfg).unwrap();
    fs::write(
        &cfg,
        String::from_utf8(orig.clone())
            .unwrap()
            .replace("\"sh\"", "\"evil\""),
    )
    .unwrap();
    assert!(matches!(
        f.store.resolve("app:1"),
        Err(ImageError::Corrupt { .. })
    ));
    fs::write(&cfg, &orig).unwrap();
    // A layer record that names another layer.
    let meta = root
        .join("layers")
        .join(im.diff_ids[1].hex())
        .join("layer.json");
    let orig = fs::read(&meta).unwrap();
    fs::write(
        &meta,
        format!(r#"{{"diff_id":"{}","size":1}}"#, im.diff_ids[0]),
    )
    .unwrap();
    assert!(matches!(
        f.store.resolve("app:1"),
        Err(ImageError::Corrupt { .. })
    ));
    fs::write(&meta, &orig).unwrap();
    // A symbolic link planted as a store file is not followed.
    fs::remove_file(&cfg).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &cfg).unwrap();
    assert!(f.store.resolve("app:1").is_err());
    fs::remove_file(&cfg).unwrap();
    fs::write(&cfg, orig_config(&im)).unwrap();
    assert_eq!(f.store.resolve("app:1").unwrap().id, im.id);
    // A root with overlayfs option separators is refused.
    assert!(Store::open(f.base.join("a:b")).is_err());
    assert!(Store::open(f.base.join("a,b")).is_err());
}

fn orig_config(im: &Img) -> Vec<u8> {
    im.config.clone()
}

#[test]
fn the_store_is_private_whatever_the_umask() {
    private_under_umask(0);
    private_under_umask(0o777);
}

fn private_under_umask(umask: libc::mode_t) {
    // umask is process-wide: change it only in a child, so the other tests never see it.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("parent/store");
    let tarball = tmp.path().join("rootfs.tar");
    fs::write(&tarball, base_layer()).unwrap();
    // SAFETY: the child only runs this test's code and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let ok = std::panic::catch_unwind(|| {
            // SAFETY: umask cannot fail.
            unsafe { libc::umask(umask) };
            let store = Store::open(&root).unwrap();
            store
                .import(
                    Source::Path(&tarball),
                    &ImportOptions {
                        name: Some("x:1"),
                        ..Default::default()
                    },
                )
                .unwrap();
        })
        .is_ok();
        // SAFETY: leaving the forked child without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed: {status}"
    );
    assert_eq!(mode(&root), 0o700);
    assert_eq!(
        mode(root.parent().unwrap()),
        0o700,
        "a parent it made is private too"
    );
    let mut checked = 0;
    for sub in ["", "images", "layers", "tmp"] {
        assert_eq!(mode(&root.join(sub)), 0o700, "{sub}");
    }
    for f in ["repositories.json", ".lock", ".gc.lock"] {
        assert_eq!(mode(&root.join(f)), 0o600, "{f}");
        checked += 1;
    }
    for d in fs::read_dir(root.join("layers"))
        .unwrap()
        .chain(fs::read_dir(root.join("images")).unwrap())
    {
        let d = d.unwrap().path();
        assert_eq!(mode(&d), 0o700, "{}", d.display());
        for f in fs::read_dir(&d).unwrap() {
            let f = f.unwrap().path();
            let want = if f.ends_with("diff") { 0o755 } else { 0o600 };
            assert_eq!(mode(&f), want, "{}", f.display());
            checked += 1;
        }
    }
    assert!(checked >= 6);
    // The tar's own modes are kept exactly, not the umask's.
    let layer = fs::read_dir(root.join("layers"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("diff");
    assert_eq!(mode(&layer.join("etc/hostname")), 0o644);
    assert_eq!(mode(&layer.join("bin/sh")), 0o755);
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn a_store_root_owned_by_someone_else_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    fs::create_dir(&root).unwrap();
    fs::set_permissions(&root, PermissionsExt::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&root, Some(1234), Some(1234)).unwrap();
    let err = Store::open(&root).unwrap_err().to_string();
    assert!(err.contains("owned by uid 1234"), "{err}");
    assert_eq!(mode(&root), 0o755, "not chmod'ed either");
}

// ---- hostile archives: each refused (or unable to reach outside), nothing left behind ----

/// From a layer's temporary directory (<base>/store/tmp/layer-*/diff), the victim directory.
const UP_TO_VICTIM: &str = "../../../../victim";

/// Loads one image whose layers are `tars`, with correct diff_ids, so that only the
/// extractor can stop it; checks it is refused and nothing was left anywhere.
fn refused(f: &Fx, tars: Vec<Vec<u8>>) -> String {
    let im = img(tars, false, json!({"Cmd": ["sh"]}), &["hostile:1"]);
    let err = f.load_bytes(&classic_tar(&[&im])).unwrap_err();
    f.assert_clean();
    err.to_string()
}

fn assert_contains(msg: &str, want: &str) {
    assert!(msg.contains(want), "{want:?} not in: {msg}");
}

#[test]
fn hostile_dotdot_paths_are_refused() {
    let f = fx();
    let escape = format!("{UP_TO_VICTIM}/pwned");
    assert_contains(&refused(&f, vec![tar_of(&[file(&escape, b"x")])]), "'..'");
    let sneaky = format!("a/{UP_TO_VICTIM}/../pwned");
    assert_contains(
        &refused(&f, vec![tar_of(&[dir("a"), file(&sneaky, b"x")])]),
        "'..'",
    );
    assert_contains(
        &refused(&f, vec![tar_of(&[dir(&format!("{UP_TO_VICTIM}/d"))])]),
        "'..'",
    );
}

#[test]
fn hostile_absolute_paths_are_refused() {
    let f = fx();
    let abs = format!("{}/pwned", f.victim.display());
    assert_contains(
        &refused(&f, vec![tar_of(&[file(&abs, b"x")])]),
        "absolute path",
    );
}

#[test]
fn hostile_absolute_symlink_is_never_written_through() {
    let f = fx();
    let v = f.victim.display().to_string();
    let msg = refused(
        &f,
        vec![tar_of(&[symlink("evil", &v), file("evil/pwned", b"x")])],
    );
    assert_contains(&msg, "symbolic link");
    // Deeper below the link, and a directory made through it.
    refused(
        &f,
        vec![tar_of(&[symlink("evil", &v), file("evil/a/b/pwned", b"x")])],
    );
    refused(&f, vec![tar_of(&[symlink("evil", &v), dir("evil/sub")])]);
}

#[test]
fn hostile_relative_symlink_is_never_written_through() {
    let f = fx();
    let msg = refused(
        &f,
        vec![tar_of(&[
            symlink("evil", UP_TO_VICTIM),
            file("evil/pwned", b"x"),
        ])],
    );
    assert_contains(&msg, "symbolic link");
    let deep = format!("../{UP_TO_VICTIM}");
    refused(
        &f,
        vec![tar_of(&[
            dir("a"),
            symlink("a/b", &deep),
            file("a/b/c/pwned", b"x"),
        ])],
    );
    // A link that stays inside the layer is not followed either.
    refused(
        &f,
        vec![tar_of(&[
            dir("etc"),
            symlink("etc2", "etc"),
            file("etc2/passwd", b"x"),
        ])],
    );
    // Nor one in a later layer's path: each layer is unpacked on its own.
    refused(
        &f,
        vec![
            tar_of(&[file("ok", b"1")]),
            tar_of(&[symlink("l", UP_TO_VICTIM), file("l/pwned", b"x")]),
        ],
    );
}

#[test]
fn a_symlink_replaced_by_a_file_or_directory_is_replaced_not_followed() {
    let f = fx();
    let v = f.victim.display().to_string();
    let layer = tar_of(&[
        symlink("x", &v),
        file("x", b"data"),
        symlink("d", &v),
        dir("d"),
        file("d/f", b"in"),
    ]);
    let im = img(vec![layer], false, json!({"Cmd": ["sh"]}), &["ok:1"]);
    f.load_bytes(&classic_tar(&[&im])).unwrap();
    let d = &f.store.resolve("ok:1").unwrap().layer_dirs[0];
    assert!(fs::symlink_metadata(d.join("x")).unwrap().is_file());
    assert!(fs::symlink_metadata(d.join("d")).unwrap().is_dir());
    assert_eq!(fs::read(d.join("d/f")).unwrap(), b"in");
    assert_eq!(fs::read_dir(&f.victim).unwrap().count(), 0);
}

#[test]
fn hostile_hard_links_are_refused() {
    let f = fx();
    let out = format!("{UP_TO_VICTIM}/x");
    assert_contains(&refused(&f, vec![tar_of(&[hardlink("h", &out)])]), "'..'");
    assert_contains(
        &refused(&f, vec![tar_of(&[hardlink("h", "/etc/passwd")])]),
        "absolute path",
    );
    let later = refused(
        &f,
        vec![tar_of(&[hardlink("h", "later"), file("later", b"x")])],
    );
    assert_contains(&later, "not (yet) in this layer");
    let v = f.victim.display().to_string();
    let through = refused(
        &f,
        vec![tar_of(&[symlink("l", &v), hardlink("h", "l/secret")])],
    );
    assert_contains(&through, "symbolic link");
    assert_contains(
        &refused(&f, vec![tar_of(&[dir("d"), hardlink("h", "d")])]),
        "not a file",
    );
    // A link to a file of an earlier layer is not in this layer either.
    refused(
        &f,
        vec![tar_of(&[file("f", b"x")]), tar_of(&[hardlink("h", "f")])],
    );
}

#[test]
fn device_nodes_are_skipped_with_a_warning() {
    let f = fx();
    let mut sda = entry("dev/sda", tar::EntryType::Block);
    sda.dev = (8, 0);
    let mut mem = entry("dev/mem", tar::EntryType::Char);
    mem.dev = (1, 1);
    let im = img(
        vec![tar_of(&[dir("dev"), sda, mem, file("dev/ok", b"")])],
        false,
        json!({"Cmd": ["sh"]}),
        &["dev:1"],
    );
    let report = f.load_bytes(&classic_tar(&[&im])).unwrap();
    let w = report.warnings.join("\n");
    assert_contains(&w, "skipped 2 device nodes");
    assert_contains(&w, "dev/sda");
    let d = &f.store.resolve("dev:1").unwrap().layer_dirs[0];
    assert!(!d.join("dev/sda").exists() && !d.join("dev/mem").exists());
    assert!(d.join("dev/ok").exists());
}

#[test]
fn a_diff_id_mismatch_is_refused() {
    let f = fx();
    let layer = tar_of(&[file("a", b"1")]);
    let im = img_with_diff_ids(
        vec![layer],
        false,
        json!({}),
        &["x:1"],
        vec![Digest::of(b"something else")],
    );
    let err = f.load_bytes(&classic_tar(&[&im])).unwrap_err();
    assert!(matches!(err, ImageError::DigestMismatch { .. }), "{err}");
    assert_contains(&err.to_string(), "rootfs.diff_ids");
    f.assert_clean();
}

#[test]
fn an_oci_blob_digest_or_size_mismatch_is_refused() {
    let f = fx();
    let im = img(vec![base_layer()], true, json!({}), &[]);
    let mut files = oci_layout(&[(&im, Some("x/y:1"))], false);
    let path = format!("blobs/sha256/{}", Digest::of(&im.blobs[0]).hex());
    // Same size, other bytes (a flipped bit in the gzip header's mtime: still valid gzip).
    let mut evil = im.blobs[0].clone();
    evil[4] ^= 1;
    files.insert(path.clone(), evil);
    let err = f.load_bytes(&archive(&files)).unwrap_err();
    assert!(matches!(err, ImageError::DigestMismatch { .. }), "{err}");
    f.assert_clean();
    let mut longer = im.blobs[0].clone();
    longer.extend_from_slice(&[0; 10]);
    files.insert(path, longer);
    assert!(f.load_bytes(&archive(&files)).is_err());
    f.assert_clean();
    // A config that is not the one the manifest names.
    let mut files = oci_layout(&[(&im, Some("x/y:1"))], false);
    files.insert(
        format!("blobs/sha256/{}", im.id.hex()),
        im.config
            .iter()
            .map(|b| if *b == b'{' { b' ' } else { *b })
            .collect(),
    );
    let err = f.load_bytes(&archive(&files)).unwrap_err();
    assert!(
        matches!(
            err,
            ImageError::DigestMismatch { .. } | ImageError::SizeMismatch { .. }
        ),
        "{err}"
    );
    f.assert_clean();
}

#[test]
fn a_truncated_or_corrupt_gzip_layer_is_refused() {
    let f = fx();
    let mut big = Vec::new();
    for i in 0..20_000u32 {
        big.extend_from_slice(&i.to_le_bytes());
    }
    let layer = tar_of(&[file("big", &big), file("after", b"x")]);
    let good = gz(&layer);
    let diff = vec![Digest::of(&layer)];
    let load = |blob: Vec<u8>| {
        let mut im = img_with_diff_ids(
            vec![layer.clone()],
            true,
            json!({}),
            &["gz:1"],
            diff.clone(),
        );
        im.blobs = vec![blob];
        let err = f.load_bytes(&classic_tar(&[&im])).unwrap_err();
        f.assert_clean();
        err.to_string()
    };
    assert_contains(
        &load(good[..good.len() / 2].to_vec()),
        "corrupt or truncated",
    );
    // Only the trailer (CRC and size) missing: the tar itself is whole, the gzip is not.
    assert_contains(
        &load(good[..good.len() - 8].to_vec()),
        "corrupt or truncated",
    );
    let mut bad_crc = good.clone();
    let n = bad_crc.len();
    bad_crc[n - 8] ^= 0xff;
    assert_contains(&load(bad_crc), "corrupt or truncated");
    // The media type promises gzip, the bytes are not.
    let mut files = oci_layout(
        &[(&img(vec![layer.clone()], true, json!({}), &[]), None)],
        false,
    );
    let im = img(vec![layer.clone()], false, json!({}), &[]);
    let m = oci_manifest(&mut files, &im);
    let text = String::from_utf8(m)
        .unwrap()
        .replace("v1.tar\"", "v1.tar+gzip\"");
    let mut layout = Files::new();
    for (k, v) in &files {
        layout.insert(k.clone(), v.clone());
    }
    blob(&mut layout, text.as_bytes());
    layout.insert(
        "index.json".into(),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [desc("application/vnd.oci.image.manifest.v1+json", text.as_bytes())]})).unwrap(),
    );
    let err = f.load_bytes(&archive(&layout)).unwrap_err().to_string();
    assert_contains(&err, "not gzip");
    f.assert_clean();
}

#[test]
fn a_truncated_tar_layer_is_refused() {
    let f = fx();
    let layer = tar_of(&[file("a", &[7u8; 4096]), file("b", b"b")]);
    // diff_ids of the cut bytes themselves: only the tar reading can notice.
    for cut in [512 + 1000, 512 + 4096, 512 + 4096 + 512 + 512] {
        let part = layer[..cut].to_vec();
        let msg = refused(&f, vec![part]);
        assert_contains(&msg, "truncated");
    }
    assert_contains(&refused(&f, vec![Vec::new()]), "truncated");
}

#[test]
fn zstd_and_other_compressions_are_refused_clearly() {
    let f = fx();
    let im = img(vec![base_layer()], false, json!({}), &[]);
    let mut files = oci_layout(&[(&im, None)], false);
    let m = oci_manifest(&mut files, &im);
    let zstd = String::from_utf8(m)
        .unwrap()
        .replace("v1.tar\"", "v1.tar+zstd\"");
    blob(&mut files, zstd.as_bytes());
    files.insert(
        "index.json".into(),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [desc("application/vnd.oci.image.manifest.v1+json", zstd.as_bytes())]})).unwrap(),
    );
    let err = f.load_bytes(&archive(&files)).unwrap_err();
    assert!(matches!(err, ImageError::Unsupported(_)), "{err}");
    assert_contains(&err.to_string(), "zstd");
    f.assert_clean();
    // By magic bytes, where no media type says so.
    let magic = vec![0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0];
    assert_contains(&refused(&f, vec![magic]), "zstd");
    assert_contains(&refused(&f, vec![b"BZh91AY&SY".to_vec()]), "bzip2");
    // A whole archive compressed with xz.
    let err = f
        .load_bytes(&[0xfd, b'7', b'z', b'X', b'Z', 0, 1, 2])
        .unwrap_err()
        .to_string();
    assert_contains(&err, "xz");
    f.assert_clean();
}

#[test]
fn a_hostile_later_layer_leaves_no_earlier_layer_behind() {
    let f = fx();
    let v = f.victim.display().to_string();
    refused(
        &f,
        vec![
            base_layer(),
            top_layer(),
            tar_of(&[symlink("e", &v), file("e/x", b"x")]),
        ],
    );
}

#[test]
fn a_failed_load_keeps_the_images_already_there() {
    let f = fx();
    let good = small("good:1", b"g");
    f.load_bytes(&classic_tar(&[&good])).unwrap();
    let before = fs::read(f.store.root().join("repositories.json")).unwrap();
    let bad = img(
        vec![base_layer(), tar_of(&[file("../x", b"")])],
        false,
        json!({}),
        &["good:1"],
    );
    assert!(f.load_bytes(&classic_tar(&[&bad])).is_err());
    assert_eq!(
        fs::read(f.store.root().join("repositories.json")).unwrap(),
        before,
        "names untouched"
    );
    assert_eq!(f.store.resolve("good:1").unwrap().id, good.id);
    assert_eq!(
        f.entries("layers").len(),
        2,
        "the good image's layers stay, the bad one's go"
    );
    assert_eq!(f.entries("tmp"), Vec::<String>::new());
}

// long: one scenario, step by step, as a user goes through it.
#[test]
fn bad_archives_are_refused_with_what_is_wrong() {
    let f = fx();
    let im = small("x:1", b"x");
    let check = |files: &Files, want: &str| {
        let err = f.load_bytes(&archive(files)).unwrap_err().to_string();
        assert_contains(&err, want);
        f.assert_clean();
    };
    let (mut files, _) = docker_classic(&[&im]);
    let manifest = |cfg: &str, layers: Vec<String>| {
        serde_json::to_vec(&json!([{"Config": cfg, "RepoTags": ["x:1"], "Layers": layers}]))
            .unwrap()
    };
    let layers: Vec<String> = files
        .keys()
        .filter(|k| k.ends_with("layer.tar"))
        .cloned()
        .collect();
    files.insert(
        "manifest.json".into(),
        manifest("../../../../etc/passwd", layers.clone()),
    );
    check(&files, "must stay inside the archive");
    files.insert(
        "manifest.json".into(),
        manifest(
            &format!("{}.json", im.id.hex()),
            vec!["/etc/passwd".into(), layers[1].clone()],
        ),
    );
    check(&files, "must stay inside the archive");
    files.insert(
        "manifest.json".into(),
        manifest(&format!("{}.json", im.id.hex()), vec![layers[0].clone()]),
    );
    check(&files, "the config lists 2 layers");
    files.insert(
        "manifest.json".into(),
        manifest(
            &format!("{}.json", im.id.hex()),
            vec!["nope/layer.tar".into(), layers[1].clone()],
        ),
    );
    check(&files, "missing from the archive");
    files.insert("manifest.json".into(), b"[]".to_vec());
    check(&files, "lists no image");
    files.insert("manifest.json".into(), serde_json::to_vec(&json!([{"Config": format!("{}.json", im.id.hex()), "RepoTags": ["Bad Tag"], "Layers": layers}])).unwrap());
    check(&files, "RepoTags");
    // A config whose file name is not its digest.
    let (mut files, _) = docker_classic(&[&im]);
    let other = Digest::of(b"other");
    let cfg = files.remove(&format!("{}.json", im.id.hex())).unwrap();
    files.insert(format!("{}.json", other.hex()), cfg);
    let m = String::from_utf8(files["manifest.json"].clone())
        .unwrap()
        .replace(im.id.hex(), other.hex());
    files.insert("manifest.json".into(), m.into_bytes());
    check(&files, "digest mismatch");
    // Neither format.
    check(
        &Files::from([("hello.txt".to_string(), b"hi".to_vec())]),
        "neither a docker save archive",
    );
    let err = f
        .load_bytes(
            b"definitely not a tar archive, just some bytes that are long enough to fill a block"
                .repeat(10)
                .as_slice(),
        )
        .unwrap_err();
    assert!(matches!(err, ImageError::Format { .. }), "{err}");
    // OCI: an index with only foreign platforms; a layout version we do not know.
    let mut files = oci_layout(&[(&im, None)], true);
    let idx: Value = serde_json::from_slice(&files["index.json"]).unwrap();
    let inner_digest = idx["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_string();
    let inner: Value =
        serde_json::from_slice(&files[&format!("blobs/sha256/{inner_digest}")]).unwrap();
    let only_foreign = json!({"schemaVersion": 2, "manifests": [inner["manifests"][0]]});
    let bytes = serde_json::to_vec(&only_foreign).unwrap();
    blob(&mut files, &bytes);
    files.insert("index.json".into(), serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [desc("application/vnd.oci.image.index.v1+json", &bytes)]})).unwrap());
    check(&files, &format!("no image for linux/{}", native_arch()));
    let mut files = oci_layout(&[(&im, None)], false);
    files.insert(
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"2.0.0"}"#.to_vec(),
    );
    check(&files, "layout version 2.0.0");
    let missing = f.base.join("nope.tar");
    assert!(matches!(
        f.store.load(Source::Path(&missing)),
        Err(ImageError::Io { .. })
    ));
}

#[test]
fn long_names_and_pax_records_are_read() {
    let f = fx();
    let long = format!("{}/file", "d".repeat(150));
    let im = img(
        vec![tar_of(&[file(&long, b"long").mtime(5)])],
        false,
        json!({}),
        &["long:1"],
    );
    f.load_bytes(&classic_tar(&[&im])).unwrap();
    let d = &f.store.resolve("long:1").unwrap().layer_dirs[0];
    assert_eq!(fs::read(d.join(&long)).unwrap(), b"long");
    let w = refused(&fx(), vec![tar_of(&[file(".wh..", b"")])]);
    assert_contains(&w, "a whiteout must name an entry");
}

// ---- as root: whiteouts, opaque directories, ownership, xattrs ----

fn lgetxattr(p: &Path, name: &str) -> Option<Vec<u8>> {
    let cp = CString::new(p.as_os_str().as_bytes()).unwrap();
    let cn = CString::new(name).unwrap();
    let mut buf = vec![0u8; 256];
    // SAFETY: valid C strings and buffer; the result is checked.
    let n =
        unsafe { libc::lgetxattr(cp.as_ptr(), cn.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (n >= 0).then(|| {
        buf.truncate(n as usize);
        buf
    })
}

/// Mounts the image's layers as a read-only overlay in a child's own mount namespace and runs
/// `check` on the merged tree there (the mount goes with the child).
fn in_overlay(img: &Image, check: impl FnOnce(&Path)) {
    let merged = tempfile::tempdir().unwrap();
    let target = CString::new(merged.path().as_os_str().as_bytes()).unwrap();
    let opts = CString::new(format!("lowerdir={}", img.overlay_lowerdir())).unwrap();
    // SAFETY: the child runs only this test's code and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // SAFETY: plain syscalls on valid C strings; results are checked.
            unsafe {
                assert_eq!(libc::unshare(libc::CLONE_NEWNS), 0, "unshare");
                assert_eq!(
                    libc::mount(
                        c"none".as_ptr(),
                        c"/".as_ptr(),
                        std::ptr::null(),
                        libc::MS_REC | libc::MS_PRIVATE,
                        std::ptr::null()
                    ),
                    0
                );
                let r = libc::mount(
                    c"overlay".as_ptr(),
                    target.as_ptr(),
                    c"overlay".as_ptr(),
                    libc::MS_RDONLY,
                    opts.as_ptr().cast(),
                );
                assert_eq!(r, 0, "mount overlay: {}", std::io::Error::last_os_error());
            }
            check(merged.path());
        }))
        .is_ok();
        // SAFETY: leaving the forked child without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the overlay check failed in the child"
    );
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn whiteouts_and_opaque_directories_become_overlayfs_ones() {
    let f = fx();
    let lower = tar_of(&[
        file("gone", b"deleted above"),
        dir("gone-dir"),
        file("gone-dir/inner", b"x"),
        dir("opaque"),
        file("opaque/old", b"hidden above"),
        file("keep", b"kept"),
        dir("mixed"),
        file("mixed/old", b"stays"),
    ]);
    let upper = tar_of(&[
        file(".wh.gone", b""),
        file(".wh.gone-dir", b""),
        dir("opaque"),
        file("opaque/.wh..wh..opq", b""),
        file("opaque/new", b"new"),
        file("mixed/new", b"new"),
        file(".wh..wh.plnk", b""),
    ]);
    for gzip in [false, true] {
        let im = img(
            vec![lower.clone(), upper.clone()],
            gzip,
            json!({"Cmd": ["sh"]}),
            &["wh:1"],
        );
        let files = oci_layout(&[(&im, Some("localhost/wh:1"))], false);
        f.load_bytes(&archive(&files)).unwrap();
        let got = f.store.resolve("localhost/wh:1").unwrap();
        let top = &got.layer_dirs[1];
        for w in ["gone", "gone-dir"] {
            let m = fs::symlink_metadata(top.join(w)).unwrap();
            assert!(m.file_type().is_char_device(), "{w} is a whiteout");
            assert_eq!(m.rdev(), 0, "{w} is 0:0");
        }
        assert!(!top.join(".wh.gone").exists() && !top.join(".wh..wh.plnk").exists());
        assert!(!top.join("opaque/.wh..wh..opq").exists());
        assert_eq!(
            lgetxattr(&top.join("opaque"), "trusted.overlay.opaque").as_deref(),
            Some(&b"y"[..])
        );
        assert_eq!(
            lgetxattr(&top.join("mixed"), "trusted.overlay.opaque"),
            None
        );
        in_overlay(&got, |m| {
            assert!(!m.join("gone").exists(), "whited out");
            assert!(!m.join("gone-dir").exists(), "whited out");
            assert_eq!(fs::read(m.join("keep")).unwrap(), b"kept");
            assert!(!m.join("opaque/old").exists(), "hidden by the opaque dir");
            assert_eq!(fs::read(m.join("opaque/new")).unwrap(), b"new");
            assert_eq!(fs::read(m.join("mixed/old")).unwrap(), b"stays");
            assert_eq!(fs::read(m.join("mixed/new")).unwrap(), b"new");
        });
        f.store
            .remove("localhost/wh:1", &RemoveOptions::default())
            .unwrap();
        f.assert_clean();
    }
}

// long: one scenario, step by step, as a user goes through it.
#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn ownership_set_id_bits_capabilities_and_times_are_kept() {
    let f = fx();
    // struct vfs_cap_data, revision 2, effective, permitted = CAP_NET_RAW (13).
    let mut cap = Vec::new();
    for v in [0x0200_0001u32, 1 << 13, 0, 0, 0] {
        cap.extend_from_slice(&v.to_le_bytes());
    }
    let layer = tar_of(&[
        dir("tmp").mode(0o1777).owner(0, 0).mtime(111),
        dir("home").mode(0o700).owner(1000, 1000).mtime(222),
        file("home/f", b"mine").owner(1000, 1000).mode(0o600),
        file("usr/bin/su", b"setuid").owner(0, 0).mode(0o4755),
        file("usr/bin/wall", b"setgid").owner(0, 5).mode(0o2755),
        file("usr/bin/ping", b"cap")
            .owner(1234, 5678)
            .mode(0o755)
            .xattr("security.capability", &cap),
        file("u", b"")
            .xattr("user.note", b"kept")
            .xattr("trusted.overlay.redirect", b"/etc"),
        symlink("lnk", "home/f").owner(42, 43).mtime(333),
        entry("pipe", tar::EntryType::Fifo).owner(7, 8).mode(0o640),
    ]);
    let im = img(vec![layer], false, json!({}), &["own:1"]);
    let report = f.load_bytes(&classic_tar(&[&im])).unwrap();
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("trusted.overlay.redirect")),
        "{:?}",
        report.warnings
    );
    let d = &f.store.resolve("own:1").unwrap().layer_dirs[0];
    let st = |p: &str| fs::symlink_metadata(d.join(p)).unwrap();
    assert_eq!(
        (st("tmp").mode() & 0o7777, st("tmp").mtime()),
        (0o1777, 111)
    );
    assert_eq!(
        (
            st("home").uid(),
            st("home").gid(),
            st("home").mode() & 0o7777,
            st("home").mtime()
        ),
        (1000, 1000, 0o700, 222)
    );
    assert_eq!(
        (st("home/f").uid(), st("home/f").mode() & 0o7777),
        (1000, 0o600)
    );
    assert_eq!(
        st("usr/bin/su").mode() & 0o7777,
        0o4755,
        "setuid survives the chown"
    );
    assert_eq!(
        (st("usr/bin/wall").gid(), st("usr/bin/wall").mode() & 0o7777),
        (5, 0o2755)
    );
    let ping = st("usr/bin/ping");
    assert_eq!((ping.uid(), ping.gid()), (1234, 5678));
    assert_eq!(
        lgetxattr(&d.join("usr/bin/ping"), "security.capability"),
        Some(cap),
        "set after the chown that clears it"
    );
    assert_eq!(
        lgetxattr(&d.join("u"), "user.note").as_deref(),
        Some(&b"kept"[..])
    );
    assert_eq!(
        lgetxattr(&d.join("u"), "trusted.overlay.redirect"),
        None,
        "a layer cannot set overlayfs's own xattrs"
    );
    assert_eq!(
        (st("lnk").uid(), st("lnk").gid(), st("lnk").mtime()),
        (42, 43, 333)
    );
    assert!(st("lnk").file_type().is_symlink());
    let pipe = st("pipe");
    assert!(pipe.file_type().is_fifo());
    assert_eq!(
        (pipe.uid(), pipe.gid(), pipe.mode() & 0o7777),
        (7, 8, 0o640)
    );
}

// ---- images made by podman (tests/images.sh) ----

/// What a layer must reproduce of an entry: mode, uid, gid, content, link target, mtime.
type Node = (u32, u32, u32, Option<Vec<u8>>, Option<PathBuf>, i64);

/// Every entry below `root`, by relative path.
fn tree(root: &Path) -> BTreeMap<PathBuf, Node> {
    let mut out = BTreeMap::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let m = fs::symlink_metadata(&p).unwrap();
            let ft = m.file_type();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            let data = ft.is_file().then(|| fs::read(&p).unwrap());
            let link = ft.is_symlink().then(|| fs::read_link(&p).unwrap());
            // Directory mtimes change as entries are made; the others must be the tar's.
            let mtime = if ft.is_dir() { 0 } else { m.mtime() };
            out.insert(rel, (m.mode(), m.uid(), m.gid(), data, link, mtime));
            if ft.is_dir() {
                todo.push(p);
            }
        }
    }
    out
}

// long: one scenario, step by step, as a user goes through it.
/// Run by tests/images.sh, which makes the archives with podman and says what podman sees.
#[test]
#[ignore = "needs the archives tests/images.sh makes with podman"]
fn podman_saved_images_load() {
    let work =
        PathBuf::from(std::env::var("DR_IMAGE_E2E").expect("DR_IMAGE_E2E: run tests/images.sh"));
    let said = |k: &str| fs::read_to_string(work.join(k)).unwrap().trim().to_string();
    let podman_id =
        Digest::parse(&said("id")).unwrap_or_else(|_| Digest::from_hex(&said("id")).unwrap());
    let diff_id = Digest::parse(&said("diff_id")).unwrap();
    let rootfs = PathBuf::from(said("rootfs_dir"));
    let mut want = tree(&rootfs);
    let devices: Vec<PathBuf> = want
        .iter()
        .filter(|(_, (mode, ..))| matches!(mode & libc::S_IFMT, libc::S_IFCHR | libc::S_IFBLK))
        .map(|(p, _)| p.clone())
        .collect();
    assert!(!devices.is_empty(), "the script adds a device node");
    for d in &devices {
        want.remove(d);
    }
    for archive in ["docker.tar", "oci.tar", "ocidir", "docker.tar.gz"] {
        // A store each, so that each archive's layer (podman's OCI ones are gzip) is unpacked.
        let store = Store::open(work.join(format!("store-{archive}"))).unwrap();
        let report = store
            .load(Source::Path(&work.join(archive)))
            .unwrap_or_else(|e| panic!("{archive}: {e}"));
        assert_eq!(report.images.len(), 1, "{archive}");
        assert_eq!(
            familiar(&report.images[0].names),
            strings(&["localhost/dr-e2e:v1"]),
            "{archive}"
        );
        assert!(
            report.warnings.iter().any(|w| w.contains("device node")),
            "{archive}: {:?}",
            report.warnings
        );
        let img = store.resolve("dr-e2e:v1").unwrap();
        assert_eq!(img.id, report.images[0].id, "{archive}");
        assert_eq!(img.id, podman_id, "{archive}: the id is podman's");
        assert_eq!(img.layers, vec![diff_id.clone()], "{archive}");
        let c = &img.config;
        assert!(
            c.env.contains(&"GREETING=hello".to_string()),
            "{archive}: {:?}",
            c.env
        );
        assert_eq!(
            c.cmd,
            Some(strings(&["/bin/sh", "-c", "echo $GREETING"])),
            "{archive}"
        );
        assert_eq!(c.entrypoint, None, "{archive}");
        assert_eq!(c.working_dir.as_deref(), Some("/srv"), "{archive}");
        assert_eq!(c.exposed_ports, strings(&["8080/tcp"]), "{archive}");
        assert_eq!(
            c.labels.get("org.example").map(String::as_str),
            Some("yes"),
            "{archive}"
        );
        let argv = c.argv(&RunOverrides::default()).unwrap();
        assert_eq!(argv, strings(&["/bin/sh", "-c", "echo $GREETING"]));
        let got = tree(&img.layer_dirs[0]);
        for (path, w) in &want {
            let g = got
                .get(path)
                .unwrap_or_else(|| panic!("{archive}: {} missing from the layer", path.display()));
            let (wm, gm) = (w.0, g.0);
            let dir = wm & libc::S_IFMT == libc::S_IFDIR;
            assert_eq!(
                (gm & libc::S_IFMT, gm & 0o7777),
                (wm & libc::S_IFMT, wm & 0o7777),
                "{archive}: mode of {}",
                path.display()
            );
            assert_eq!(
                (g.1, g.2),
                (w.1, w.2),
                "{archive}: owner of {}",
                path.display()
            );
            assert_eq!(
                (&g.3, &g.4),
                (&w.3, &w.4),
                "{archive}: content of {}",
                path.display()
            );
            if !dir {
                assert_eq!(g.5, w.5, "{archive}: mtime of {}", path.display());
            }
        }
        let extra: Vec<&PathBuf> = got.keys().filter(|p| !want.contains_key(*p)).collect();
        assert!(extra.is_empty(), "{archive}: not in the rootfs: {extra:?}");
        println!(
            "ok   {archive}: {} entries, id {}, layer {}",
            got.len(),
            img.id.short(),
            diff_id.short()
        );
    }
    // All four in one store: the same image, one layer.
    let store = Store::open(work.join("store")).unwrap();
    for archive in ["docker.tar", "oci.tar", "ocidir", "docker.tar.gz"] {
        store.load(Source::Path(&work.join(archive))).unwrap();
    }
    assert_eq!(store.list().unwrap().len(), 1);
    assert_eq!(
        fs::read_dir(store.root().join("layers")).unwrap().count(),
        1,
        "one layer for all four archives"
    );
    // A cut archive is refused and changes nothing.
    let whole = fs::read(work.join("docker.tar")).unwrap();
    let cut = work.join("cut.tar");
    fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    store
        .remove("dr-e2e:v1", &RemoveOptions::default())
        .unwrap();
    assert!(store.load(Source::Path(&cut)).is_err());
    assert!(store.list().unwrap().is_empty());
    assert_eq!(
        fs::read_dir(store.root().join("layers")).unwrap().count(),
        0
    );
    println!("ok   a truncated docker-archive is refused and leaves nothing");
}

#[test]
#[cfg_attr(not(feature = "test_as_root"), ignore)]
fn a_whiteout_hides_only_lower_layers() {
    let f = fx();
    let lower = tar_of(&[
        dir("redone"),
        file("redone/old", b"lower"),
        dir("kept-dir"),
        file("kept-dir/old", b"lower"),
        file("kept-file", b"lower"),
    ]);
    let upper = tar_of(&[
        // Deleted, then made again in the same layer: a fresh (opaque) directory.
        file(".wh.redone", b""),
        dir("redone"),
        file("redone/new", b"upper"),
        // Made, then whited out in the same layer: the whiteout hides only the lower one.
        dir("kept-dir"),
        file("kept-dir/new", b"upper"),
        file(".wh.kept-dir", b""),
        file("kept-file", b"upper"),
        file(".wh.kept-file", b""),
    ]);
    let im = img(vec![lower, upper], false, json!({}), &["wh:2"]);
    f.load_bytes(&classic_tar(&[&im])).unwrap();
    let got = f.store.resolve("wh:2").unwrap();
    in_overlay(&got, |m| {
        assert!(
            !m.join("redone/old").exists(),
            "the lower directory was deleted"
        );
        assert_eq!(fs::read(m.join("redone/new")).unwrap(), b"upper");
        assert!(
            !m.join("kept-dir/old").exists(),
            "the lower directory was deleted"
        );
        assert_eq!(fs::read(m.join("kept-dir/new")).unwrap(), b"upper");
        assert_eq!(fs::read(m.join("kept-file")).unwrap(), b"upper");
    });
}

#[test]
fn a_directory_listed_twice_gets_its_last_mode() {
    let f = fx();
    let layer = tar_of(&[
        dir("d").mode(0o700).mtime(1),
        file("d/f", b""),
        dir("d").mode(0o751).mtime(2),
    ]);
    let im = img(vec![layer], false, json!({}), &["twice:1"]);
    f.load_bytes(&classic_tar(&[&im])).unwrap();
    let d = f.store.resolve("twice:1").unwrap().layer_dirs[0].join("d");
    assert_eq!(mode(&d), 0o751);
    assert_eq!(fs::metadata(&d).unwrap().mtime(), 2);
}

#[test]
fn a_pipe_given_as_a_path_is_read_as_a_stream() {
    let f = fx();
    let im = small("piped:1", b"p");
    let bytes = classic_tar(&[&im]);
    let mut fds = [0; 2];
    // SAFETY: a fresh pipe; both ends are ours.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the write end is ours; File takes it over.
    let mut w: fs::File = unsafe { std::os::fd::FromRawFd::from_raw_fd(fds[1]) };
    let writer = std::thread::spawn(move || w.write_all(&bytes));
    let path = PathBuf::from(format!("/proc/self/fd/{}", fds[0]));
    let report = f.store.load(Source::Path(&path));
    writer.join().unwrap().unwrap();
    // SAFETY: closing the read end we own.
    unsafe { libc::close(fds[0]) };
    assert_eq!(report.unwrap().images[0].id, im.id);
    assert_eq!(f.entries("tmp"), Vec::<String>::new());
}
