//! The on-disk store: layers unpacked once by diff_id, configs by image id, a names index.
//! See the module documentation (image/mod.rs) for the layout and the locking.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use oci_spec::image::{
    Arch, ConfigBuilder, HistoryBuilder, ImageConfigurationBuilder, Os, RootFsBuilder,
};
use serde::{Deserialize, Serialize};

use super::archive::{self, Pending, PendingLayer};
use super::config::RunConfig;
use super::digest::Digest;
use super::error::{ImageError, Result, io_ctx};
use super::extract::{self, LayerInput, Unpacked};
use super::fs::{
    Flock, create_private_dirs, is_real_dir, new_private_dir, private_dir, read_private,
    remove_tree, unique_name, write_atomic,
};
use super::reference::Reference;
use super::source::{self, Blobs, DirBlobs, JSON_LIMIT};

/// Where docker-run keeps images unless told otherwise.
pub const DEFAULT_ROOT: &str = "/var/lib/docker-run/images";
const NAMES_FILE: &str = "repositories.json";
const NAMES_VERSION: u32 = 1;

/// What to load or import from.
pub enum Source<'a> {
    /// A tar or tar.gz file, or an OCI image layout directory.
    Path(&'a Path),
    /// A stream (e.g. stdin), spooled into the store's tmp/ first.
    Reader(&'a mut dyn Read),
}

impl<'a> From<&'a Path> for Source<'a> {
    fn from(p: &'a Path) -> Self {
        Source::Path(p)
    }
}

/// One image added by `load` or `import`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    pub id: Digest,
    pub names: Vec<Reference>,
}

#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub images: Vec<Loaded>,
    /// Things a user should hear about: skipped device nodes, dropped xattrs, a tag moved from
    /// another image, an untaggable name.
    pub warnings: Vec<String>,
}

/// An image in the store, with what running it needs.
#[derive(Debug, Clone)]
pub struct Image {
    /// The config's digest, as Docker's image ID.
    pub id: Digest,
    /// Names pointing at it (full form), sorted.
    pub names: Vec<Reference>,
    pub config: RunConfig,
    pub os: String,
    pub architecture: String,
    /// RFC 3339, as the config says.
    pub created: Option<String>,
    /// The layers' diff_ids, lowest first.
    pub layers: Vec<Digest>,
    /// The layers' unpacked directories, lowest first (overlayfs wants them topmost first: see
    /// `overlay_lowerdir`).
    pub layer_dirs: Vec<PathBuf>,
    /// Sum of the layers' uncompressed tar sizes.
    pub size: u64,
}

impl Image {
    /// The `lowerdir=` value for overlayfs: topmost layer first, ':'-separated. The store's
    /// root may hold neither ':' nor ',' (`Store::open` refuses such a root), and the rest of
    /// each path is hex, so no escaping is needed.
    pub fn overlay_lowerdir(&self) -> String {
        let dirs: Vec<String> = self
            .layer_dirs
            .iter()
            .rev()
            .map(|d| d.display().to_string())
            .collect();
        dirs.join(":")
    }
}

/// `import`'s settings, like `docker import`'s NAME and `--change`.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions<'a> {
    pub name: Option<&'a str>,
    pub config: RunConfig,
    /// Goes into the config's history, e.g. the file imported.
    pub comment: Option<&'a str>,
}

fn never_in_use(_: &Digest) -> bool {
    false
}

/// `remove`'s settings: `docker rmi -f`, and which images containers use.
pub struct RemoveOptions<'a> {
    /// Remove an image that has several names by id; untag an image a container uses (its
    /// files stay while it is in use).
    pub force: bool,
    /// True for an image some container (running or stopped) was made from.
    pub in_use: &'a dyn Fn(&Digest) -> bool,
}

impl Default for RemoveOptions<'_> {
    fn default() -> Self {
        RemoveOptions {
            force: false,
            in_use: &never_in_use,
        }
    }
}

/// What `remove` did, for `Untagged:` / `Deleted:` lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    pub untagged: Vec<Reference>,
    pub deleted: Option<Digest>,
    /// Layers no image uses any more, deleted (empty if a load was running: the next `remove`
    /// or `gc` deletes them).
    pub deleted_layers: Vec<Digest>,
}

#[derive(Serialize, Deserialize)]
struct NamesFile {
    version: u32,
    names: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct LayerMeta {
    diff_id: String,
    size: u64,
}

/// A directory removed (with its tree) when dropped, unless kept.
struct TempDir(Option<PathBuf>);

impl TempDir {
    fn path(&self) -> &Path {
        self.0
            .as_deref()
            .expect("a TempDir holds its path until kept")
    }
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = remove_tree(p);
        }
    }
}

/// The image store at a root directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store at `root`: 0700 directories, owned by us.
    pub fn open(root: impl AsRef<Path>) -> Result<Store> {
        let root = root.as_ref();
        let shown = root.display().to_string();
        if shown.contains([':', ',', '\n']) {
            return Err(ImageError::Invalid(format!(
                "image store root {shown:?} must not contain ':', ',' or a newline (overlayfs option syntax)"
            )));
        }
        create_private_dirs(root)?;
        let root = fs::canonicalize(root).map_err(io_ctx(|| format!("resolve {shown}")))?;
        let meta =
            fs::symlink_metadata(&root).map_err(io_ctx(|| format!("stat {}", root.display())))?;
        // SAFETY: geteuid cannot fail.
        let me = unsafe { libc::geteuid() };
        // Checked before anything is chmod'ed: a root someone else made is not ours to fix.
        if meta.uid() != me || !meta.is_dir() {
            return Err(ImageError::corrupt(
                &root,
                format!(
                    "owned by uid {}, not by us (uid {me}), or not a directory",
                    meta.uid()
                ),
            ));
        }
        private_dir(&root)?;
        let store = Store { root };
        for d in ["images", "layers", "tmp"] {
            private_dir(&store.root.join(d))?;
        }
        Ok(store)
    }

    /// The store at DEFAULT_ROOT.
    pub fn open_default() -> Result<Store> {
        Store::open(DEFAULT_ROOT)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn lock(&self) -> Result<Flock> {
        Flock::take(&self.root.join(".lock"), true)
    }

    fn gc_lock_path(&self) -> PathBuf {
        self.root.join(".gc.lock")
    }

    fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn image_dir(&self, id: &Digest) -> PathBuf {
        self.root.join("images").join(id.hex())
    }

    /// Deletes a store directory: first renamed into tmp/ (atomic: it is gone from its place
    /// at once, never seen half-deleted), then removed.
    fn discard(&self, path: &Path) -> Result<()> {
        let aside = self.tmp().join(unique_name("removed"));
        fs::rename(path, &aside).map_err(io_ctx(|| format!("remove {}", path.display())))?;
        remove_tree(&aside)
    }

    fn layer_dir(&self, diff_id: &Digest) -> PathBuf {
        self.root.join("layers").join(diff_id.hex())
    }

    // ---- names index ----

    fn read_names(&self) -> Result<BTreeMap<Reference, Digest>> {
        let path = self.root.join(NAMES_FILE);
        if fs::symlink_metadata(&path).is_err() {
            return Ok(BTreeMap::new());
        }
        let bytes = read_private(&path, JSON_LIMIT)?;
        let file: NamesFile = serde_json::from_slice(&bytes)
            .map_err(|e| ImageError::corrupt(&path, e.to_string()))?;
        if file.version != NAMES_VERSION {
            return Err(ImageError::corrupt(
                &path,
                format!(
                    "version {} (this build reads {NAMES_VERSION})",
                    file.version
                ),
            ));
        }
        let mut names = BTreeMap::new();
        for (k, v) in file.names {
            let r = Reference::parse(&k).map_err(|e| ImageError::corrupt(&path, e.to_string()))?;
            if r.to_string() != k {
                return Err(ImageError::corrupt(
                    &path,
                    format!("name {k:?} is not in its full form"),
                ));
            }
            let id = Digest::parse(&v).map_err(|e| ImageError::corrupt(&path, e.to_string()))?;
            names.insert(r, id);
        }
        Ok(names)
    }

    /// Call with the lock held.
    fn write_names(&self, names: &BTreeMap<Reference, Digest>) -> Result<()> {
        let file = NamesFile {
            version: NAMES_VERSION,
            names: names
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let bytes =
            serde_json::to_vec_pretty(&file).map_err(|e| ImageError::Invalid(e.to_string()))?;
        write_atomic(&self.root.join(NAMES_FILE), &bytes)
    }

    // ---- reading images ----

    /// The ids of all images, from images/ (entries that are not 64-hex directories are not ours).
    fn image_ids(&self) -> Result<Vec<Digest>> {
        let dir = self.root.join("images");
        let mut ids = Vec::new();
        for e in fs::read_dir(&dir).map_err(io_ctx(|| format!("read {}", dir.display())))? {
            let e = e.map_err(io_ctx(|| format!("read {}", dir.display())))?;
            if let Some(id) = e
                .file_name()
                .to_str()
                .and_then(|n| Digest::from_hex(n).ok())
            {
                if is_real_dir(&e.path()) {
                    ids.push(id);
                }
            }
        }
        ids.sort();
        Ok(ids)
    }

    fn read_layer_meta(&self, diff_id: &Digest) -> Result<LayerMeta> {
        let dir = self.layer_dir(diff_id);
        let path = dir.join("layer.json");
        let meta: LayerMeta = serde_json::from_slice(&read_private(&path, JSON_LIMIT)?)
            .map_err(|e| ImageError::corrupt(&path, e.to_string()))?;
        if meta.diff_id != diff_id.as_str() {
            return Err(ImageError::corrupt(
                &path,
                format!("records {} in the directory of {diff_id}", meta.diff_id),
            ));
        }
        if !is_real_dir(&dir.join("diff")) {
            return Err(ImageError::corrupt(
                &dir,
                "diff/ is missing or not a directory",
            ));
        }
        Ok(meta)
    }

    fn layer_present(&self, diff_id: &Digest) -> bool {
        is_real_dir(&self.layer_dir(diff_id)) && self.read_layer_meta(diff_id).is_ok()
    }

    /// The config of an image, checked against its id.
    fn read_config(
        &self,
        id: &Digest,
    ) -> Result<(oci_spec::image::ImageConfiguration, Vec<Digest>)> {
        let path = self.image_dir(id).join("config.json");
        let bytes = read_private(&path, JSON_LIMIT)?;
        let actual = Digest::of(&bytes);
        if actual != *id {
            return Err(ImageError::corrupt(
                &path,
                format!("its digest is {actual}"),
            ));
        }
        archive::parse_config(&path.display().to_string(), &bytes)
    }

    fn image(&self, id: &Digest, names: &BTreeMap<Reference, Digest>) -> Result<Image> {
        let (cfg, layers) = self.read_config(id)?;
        let mut size = 0;
        let mut layer_dirs = Vec::with_capacity(layers.len());
        for l in &layers {
            let meta = self.read_layer_meta(l).map_err(|e| match e {
                ImageError::Io { .. } => ImageError::corrupt(
                    self.layer_dir(l),
                    format!("layer of image {id} is missing"),
                ),
                e => e,
            })?;
            size += meta.size;
            layer_dirs.push(self.layer_dir(l).join("diff"));
        }
        Ok(Image {
            id: id.clone(),
            names: names
                .iter()
                .filter(|(_, v)| *v == id)
                .map(|(k, _)| k.clone())
                .collect(),
            config: RunConfig::from_oci(&cfg)?,
            os: cfg.os().to_string(),
            architecture: cfg.architecture().to_string(),
            created: cfg.created().clone(),
            layers,
            layer_dirs,
            size,
        })
    }

    /// Finds an image id by name (`busybox`, `localhost/foo:1`), id or unique id prefix
    /// (`sha256:` optional), as Docker does; a short name also finds podman's `localhost/` one.
    fn lookup(
        &self,
        names: &BTreeMap<Reference, Digest>,
        key: &str,
    ) -> Result<(Digest, Option<Reference>)> {
        let hex = key.strip_prefix("sha256:");
        if hex.is_none() {
            if let Ok(r) = Reference::parse(key) {
                if let Some(id) = names.get(&r) {
                    return Ok((id.clone(), Some(r)));
                }
                if Reference::domain_implied(key) {
                    let local = r.with_domain("localhost");
                    if let Some(id) = names.get(&local) {
                        return Ok((id.clone(), Some(local)));
                    }
                }
            }
        }
        let hex = hex.unwrap_or(key);
        if hex.len() < 3
            || hex.len() > 64
            || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(ImageError::NotFound(key.to_string()));
        }
        let found: Vec<Digest> = self
            .image_ids()?
            .into_iter()
            .filter(|id| id.hex().starts_with(hex))
            .collect();
        match found.len() {
            0 => Err(ImageError::NotFound(key.to_string())),
            1 => Ok((found.into_iter().next().expect("one"), None)),
            count => Err(ImageError::Ambiguous {
                key: key.to_string(),
                count,
            }),
        }
    }

    /// The image a name, id or id prefix refers to.
    pub fn resolve(&self, key: &str) -> Result<Image> {
        let names = self.read_names()?;
        let (id, _) = self.lookup(&names, key)?;
        self.image(&id, &names)
    }

    /// Runs `f` on the resolved image with the store locked, so that no `remove` can run in
    /// between: record the container as a user of the image (what `RemoveOptions::in_use`
    /// reads) inside `f`. `f` must not call back into this store (the lock is not reentrant).
    pub fn with_image<T>(&self, key: &str, f: impl FnOnce(&Image) -> T) -> Result<T> {
        let _lock = self.lock()?;
        let img = self.resolve(key)?;
        Ok(f(&img))
    }

    /// Every image, newest first (as `docker images`); untagged ones have no names.
    pub fn list(&self) -> Result<Vec<Image>> {
        let names = self.read_names()?;
        let mut all = Vec::new();
        for id in self.image_ids()? {
            match self.image(&id, &names) {
                Ok(img) => all.push(img),
                // Removed while we listed.
                Err(ImageError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        all.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(all)
    }

    // ---- adding ----

    /// Unpacks a layer into tmp/ (unless the store has it), then renames it into layers/.
    /// Call with the gc lock held shared.
    fn add_layer(
        &self,
        blobs: &dyn Blobs,
        layer: &PendingLayer,
        what: String,
    ) -> Result<Vec<String>> {
        if self.layer_present(&layer.diff_id) {
            return Ok(Vec::new());
        }
        let mut reader = blobs.open(&layer.path)?;
        let input = LayerInput {
            what,
            media_type: layer.media_type.as_deref(),
            blob_digest: layer.blob_digest.as_ref(),
            blob_size: layer.blob_size,
            diff_id: Some(&layer.diff_id),
        };
        let (tmp, unpacked) = self.unpack_to_tmp(&mut reader, &input)?;
        self.commit_layer(tmp, &unpacked)?;
        Ok(unpacked.warnings)
    }

    fn unpack_to_tmp(
        &self,
        reader: &mut dyn Read,
        input: &LayerInput<'_>,
    ) -> Result<(TempDir, Unpacked)> {
        let path = self.tmp().join(unique_name("layer"));
        new_private_dir(&path)?;
        let tmp = TempDir(Some(path));
        let diff = tmp.path().join("diff");
        // The layer's root is a container's /: 0755 unless the tar's "./" entry says otherwise.
        fs::create_dir(&diff).map_err(io_ctx(|| format!("create {}", diff.display())))?;
        fs::set_permissions(&diff, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .map_err(io_ctx(|| format!("chmod {}", diff.display())))?;
        let unpacked = extract::unpack(reader, &diff, input)?;
        let meta = LayerMeta {
            diff_id: unpacked.diff_id.to_string(),
            size: unpacked.size,
        };
        let bytes = serde_json::to_vec(&meta).map_err(|e| ImageError::Invalid(e.to_string()))?;
        write_atomic(&tmp.path().join("layer.json"), &bytes)?;
        Ok((tmp, unpacked))
    }

    fn commit_layer(&self, tmp: TempDir, unpacked: &Unpacked) -> Result<()> {
        let dest = self.layer_dir(&unpacked.diff_id);
        let _lock = self.lock()?;
        if self.layer_present(&unpacked.diff_id) {
            return Ok(()); // another load got there first; ours goes with `tmp`
        }
        if fs::symlink_metadata(&dest).is_ok() {
            // Not a valid layer (it would be present): leftovers of something else.
            self.discard(&dest)?;
        }
        fs::rename(tmp.path(), &dest)
            .map_err(io_ctx(|| format!("rename a layer into {}", dest.display())))?;
        tmp.keep();
        Ok(())
    }

    /// Writes images/<hex>/config.json (tmp dir + rename). Call with the lock held.
    fn commit_image(&self, id: &Digest, config_bytes: &[u8]) -> Result<()> {
        let dest = self.image_dir(id);
        if self.read_config(id).is_ok() {
            return Ok(());
        }
        let path = self.tmp().join(unique_name("image"));
        new_private_dir(&path)?;
        let tmp = TempDir(Some(path));
        write_atomic(&tmp.path().join("config.json"), config_bytes)?;
        if fs::symlink_metadata(&dest).is_ok() {
            self.discard(&dest)?;
        }
        fs::rename(tmp.path(), &dest).map_err(io_ctx(|| {
            format!("rename an image into {}", dest.display())
        }))?;
        tmp.keep();
        Ok(())
    }

    /// Points `name` at `id`, warning (as `docker load` does) when it moves off another image.
    fn set_name(
        names: &mut BTreeMap<Reference, Digest>,
        name: &Reference,
        id: &Digest,
        warnings: &mut Vec<String>,
    ) {
        if let Some(old) = names.insert(name.clone(), id.clone()) {
            if old != *id {
                warnings.push(format!(
                    "the image {} already existed: its old image {} keeps no name",
                    name.familiar(),
                    old.short()
                ));
            }
        }
    }

    /// Loads every image of a `docker save` tarball or an OCI layout (directory or tar), gzip
    /// or not. Nothing is named until all of the archive's layers are in: a failure leaves the
    /// names and images as they were (layers it unpacked are collected as garbage before it
    /// returns, after any concurrent load: a try could miss, as a process forked meanwhile
    /// holds a copy of our shared lock until it execs).
    pub fn load(&self, source: Source<'_>) -> Result<LoadReport> {
        let result = self.load_pinned(source);
        if result.is_err() {
            let _ = self.gc();
        }
        result
    }

    fn load_pinned(&self, source: Source<'_>) -> Result<LoadReport> {
        let _pin = Flock::take(&self.gc_lock_path(), false)?;
        let blobs: Box<dyn Blobs> = match source {
            Source::Path(p) => {
                let meta = fs::metadata(p).map_err(io_ctx(|| format!("open {}", p.display())))?;
                if meta.is_dir() {
                    Box::new(DirBlobs::open_dir(p)?)
                } else if meta.is_file() {
                    Box::new(source::open_archive_file(p, &self.tmp())?)
                } else {
                    // A pipe or a terminal (/dev/stdin): read it as a stream.
                    let mut f =
                        fs::File::open(p).map_err(io_ctx(|| format!("open {}", p.display())))?;
                    Box::new(source::spool(
                        &mut f,
                        &p.display().to_string(),
                        &self.tmp(),
                    )?)
                }
            }
            Source::Reader(r) => Box::new(source::spool(r, "the input stream", &self.tmp())?),
        };
        let (pending, mut warnings) = archive::read(&*blobs)?;
        for p in &pending {
            let n = p.layers.len();
            for (i, l) in p.layers.iter().enumerate() {
                let what = format!(
                    "{}: image {}: layer {} of {n} ({})",
                    blobs.name(),
                    p.id.short(),
                    i + 1,
                    l.path
                );
                warnings.extend(self.add_layer(&*blobs, l, what)?);
            }
        }
        let _lock = self.lock()?;
        let mut names = self.read_names()?;
        let mut images = Vec::new();
        for Pending {
            id,
            config_bytes,
            layers,
            names: new_names,
        } in &pending
        {
            // The gc lock we hold keeps every layer we saw or added in place.
            if let Some(l) = layers.iter().find(|l| !self.layer_present(&l.diff_id)) {
                return Err(ImageError::corrupt(
                    self.layer_dir(&l.diff_id),
                    "layer vanished during the load",
                ));
            }
            self.commit_image(id, config_bytes)?;
            for n in new_names {
                Store::set_name(&mut names, n, id, &mut warnings);
            }
            images.push(Loaded {
                id: id.clone(),
                names: new_names.clone(),
            });
        }
        self.write_names(&names)?;
        Ok(LoadReport { images, warnings })
    }

    /// Makes a one-layer image from a root filesystem tar (plain or gzip), like `docker import`.
    pub fn import(
        &self,
        source: Source<'_>,
        opts: &ImportOptions<'_>,
    ) -> Result<(Loaded, Vec<String>)> {
        let name = opts.name.map(Reference::parse).transpose()?;
        let result = self.import_pinned(source, opts, name);
        if result.is_err() {
            let _ = self.gc(); // as in `load`
        }
        result
    }

    fn import_pinned(
        &self,
        source: Source<'_>,
        opts: &ImportOptions<'_>,
        name: Option<Reference>,
    ) -> Result<(Loaded, Vec<String>)> {
        let _pin = Flock::take(&self.gc_lock_path(), false)?;
        let mut file;
        let (reader, what): (&mut dyn Read, String) = match source {
            Source::Path(p) => {
                file = fs::File::open(p).map_err(io_ctx(|| format!("open {}", p.display())))?;
                if file.metadata().is_ok_and(|m| m.is_dir()) {
                    return Err(ImageError::Invalid(format!(
                        "{}: import takes a tar archive, not a directory",
                        p.display()
                    )));
                }
                (&mut file, p.display().to_string())
            }
            Source::Reader(r) => (r, "the input stream".to_string()),
        };
        let input = LayerInput {
            what: what.clone(),
            ..Default::default()
        };
        let (tmp, unpacked) = self.unpack_to_tmp(reader, &input)?;
        let diff_id = unpacked.diff_id.clone();
        self.commit_layer(tmp, &unpacked)?;
        let created = rfc3339_now();
        let comment = opts
            .comment
            .map_or_else(|| format!("imported from {what}"), str::to_string);
        let bad = |e: oci_spec::OciSpecError| ImageError::Invalid(format!("image config: {e}"));
        let mut config = ConfigBuilder::default().build().map_err(bad)?;
        if opts.config != RunConfig::default() {
            config = opts.config.to_oci();
        }
        let cfg = ImageConfigurationBuilder::default()
            .created(created.clone())
            .architecture(Arch::from(archive::native_arch()))
            .os(Os::Linux)
            .config(config)
            .rootfs(
                RootFsBuilder::default()
                    .typ("layers")
                    .diff_ids(vec![diff_id.to_string()])
                    .build()
                    .map_err(bad)?,
            )
            .history(vec![
                HistoryBuilder::default()
                    .created(created)
                    .created_by("docker-run import")
                    .comment(comment)
                    .build()
                    .map_err(bad)?,
            ])
            .build()
            .map_err(bad)?;
        let bytes = serde_json::to_vec(&cfg).map_err(|e| ImageError::Invalid(e.to_string()))?;
        let id = Digest::of(&bytes);
        let mut warnings = unpacked.warnings;
        let _lock = self.lock()?;
        let mut names = self.read_names()?;
        self.commit_image(&id, &bytes)?;
        if let Some(n) = &name {
            Store::set_name(&mut names, n, &id, &mut warnings);
            self.write_names(&names)?;
        }
        Ok((
            Loaded {
                id,
                names: name.into_iter().collect(),
            },
            warnings,
        ))
    }

    /// Gives the image `src` (name or id) the name `dst` (`docker tag`).
    pub fn tag(&self, src: &str, dst: &str) -> Result<Reference> {
        let dst = Reference::parse(dst)?;
        let _lock = self.lock()?;
        let mut names = self.read_names()?;
        let (id, _) = self.lookup(&names, src)?;
        names.insert(dst.clone(), id);
        self.write_names(&names)?;
        Ok(dst)
    }

    /// `docker rmi`: by name, untags, and deletes the image when that was its last name; by id,
    /// deletes the image and its names (several names need `force`). An image `in_use` is
    /// never deleted: without `force` the call fails, with it only its names go. Layers no
    /// image uses any more are deleted too.
    pub fn remove(&self, key: &str, opts: &RemoveOptions<'_>) -> Result<Removed> {
        let mut removed = Removed::default();
        {
            let _lock = self.lock()?;
            let mut names = self.read_names()?;
            let (id, by_name) = self.lookup(&names, key)?;
            let tags: Vec<Reference> = names
                .iter()
                .filter(|(_, v)| **v == id)
                .map(|(k, _)| k.clone())
                .collect();
            let untag: Vec<Reference> = match &by_name {
                Some(r) => vec![r.clone()],
                None => tags.clone(),
            };
            let last_name_goes = untag.len() == tags.len();
            if by_name.is_none() && tags.len() > 1 && !opts.force {
                return Err(ImageError::MultipleNames {
                    id: id.short().to_string(),
                    names: tags
                        .iter()
                        .map(Reference::familiar)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            let in_use = last_name_goes && (opts.in_use)(&id);
            if in_use && !opts.force {
                return Err(ImageError::InUse {
                    key: key.to_string(),
                    id: id.short().to_string(),
                });
            }
            for r in &untag {
                names.remove(r);
            }
            if !untag.is_empty() {
                self.write_names(&names)?;
            }
            removed.untagged = untag;
            if last_name_goes && !in_use {
                let dir = self.image_dir(&id);
                self.discard(&dir)?;
                removed.deleted = Some(id);
            }
        }
        if removed.deleted.is_some() {
            removed.deleted_layers = self.gc()?;
        }
        Ok(removed)
    }

    /// Deletes layers no image uses and leftovers in tmp/, waiting for running loads to end.
    pub fn gc(&self) -> Result<Vec<Digest>> {
        let _pin = Flock::take(&self.gc_lock_path(), true)?;
        self.collect()
    }

    /// Call with the gc lock held exclusively (no load runs).
    fn collect(&self) -> Result<Vec<Digest>> {
        let _lock = self.lock()?;
        let mut used = BTreeSet::new();
        for id in self.image_ids()? {
            match self.read_config(&id) {
                Ok((_, layers)) => used.extend(layers),
                // A corrupt image keeps its layers: nothing is deleted on a guess.
                Err(_) => return Ok(Vec::new()),
            }
        }
        let tmp = self.tmp();
        for e in fs::read_dir(&tmp).map_err(io_ctx(|| format!("read {}", tmp.display())))? {
            let e = e.map_err(io_ctx(|| format!("read {}", tmp.display())))?;
            remove_tree(&e.path())?;
        }
        let mut deleted = Vec::new();
        let layers = self.root.join("layers");
        for e in fs::read_dir(&layers).map_err(io_ctx(|| format!("read {}", layers.display())))? {
            let e = e.map_err(io_ctx(|| format!("read {}", layers.display())))?;
            let Some(diff) = e
                .file_name()
                .to_str()
                .and_then(|n| Digest::from_hex(n).ok())
            else {
                continue;
            };
            if used.contains(&diff) {
                continue;
            }
            self.discard(&e.path())?;
            deleted.push(diff);
        }
        Ok(deleted)
    }
}

/// Now, as RFC 3339 UTC with seconds ("2024-05-01T12:00:00Z").
fn rfc3339_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    rfc3339(secs)
}

pub(crate) fn rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
