//! image_* exports: the image store (load, import, list, tag, remove) and
//! container_config_set_image.

use std::ffi::{c_char, c_int};
use std::path::PathBuf;

use super::container::container_config;
use super::{
    Castable, c_path, c_str, fail, guard, guard_void, out_param, rt_status, try_mut_from_ptr,
    try_ref_from_ptr, write_string,
};
use crate::container::Host;
use crate::image::{self, Digest, Image, ImportOptions, RemoveOptions, Source, Store};
use crate::spec::ImageChoice;

/// An image store (opaque): a directory of images and their unpacked layers. Open with
/// image_store_open, free with image_store_free. Several handles (and processes) may use one
/// store at once: the store locks itself. A handle is not thread-safe.
pub struct image_store {
    _private: [u8; 0],
}

impl Castable for image_store {
    type RustType = Store;
}

/// One image as listed, loaded or removed.
pub(crate) struct Entry {
    id: String,
    names: Vec<String>,
    created: String,
    size: u64,
}

/// A list of images (opaque): a snapshot made by image_list_new, image_load, image_import or
/// image_remove, read with the image_list_* getters, freed with image_list_free.
pub struct image_list {
    _private: [u8; 0],
}

pub(crate) struct List {
    entries: Vec<Entry>,
    warnings: String,
}

impl Castable for image_list {
    type RustType = List;
}

/// For image_remove: also remove an image that has several names when given by id, and untag
/// an image that a container uses (its files stay while it is used), as `docker rmi -f`.
pub const RT_IMAGE_REMOVE_FORCE: u32 = 1;

fn entry_of(img: &Image) -> Entry {
    Entry {
        id: img.id.to_string(),
        names: img.names.iter().map(|n| n.familiar()).collect(),
        created: img.created.clone().unwrap_or_default(),
        size: img.size,
    }
}

fn hand_out(list: List, out: *mut *mut image_list) -> Result<(), super::Failure> {
    if out.is_null() {
        return Ok(()); // the caller does not want the list
    }
    image_list::into_out(list, out)
}

/// Opens the image store at `root` (a directory, created 0700 if missing, owned by the
/// caller), or at /var/lib/docker-run/images when `root` is NULL. Writes *out only on success.
#[unsafe(no_mangle)]
pub extern "C" fn image_store_open(root: *const c_char, out: *mut *mut image_store) -> c_int {
    guard(|| {
        out_param(out, "out")?;
        let root = if root.is_null() {
            PathBuf::from(image::DEFAULT_ROOT)
        } else {
            c_path(root, "root")?
        };
        image_store::into_out(Store::open(root)?, out)
    })
}

/// Frees a store handle (the store stays on disk). NULL is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn image_store_free(store: *mut image_store) {
    guard_void(|| image_store::free(store))
}

/// Loads every image of `path`: a `docker save` tarball or an OCI image layout (a directory or
/// its tar), gzip-compressed or not, with plain or gzip layers. Each layer is unpacked once
/// into the store, its digest checked; whiteouts become overlayfs whiteouts. An archive with
/// an entry that would reach outside its layer (`../`, a link out, an absolute symlink
/// written through), a digest mismatch or a truncated stream is refused with
/// RT_STATUS_BAD_IMAGE and leaves the store as it was. *out (may be NULL) gets the images
/// loaded, with their names; image_list_warnings tells what was skipped (device nodes, ...).
#[unsafe(no_mangle)]
pub extern "C" fn image_load(
    store: *mut image_store,
    path: *const c_char,
    out: *mut *mut image_list,
) -> c_int {
    guard(|| {
        let store = try_mut_from_ptr!(store);
        let path = c_path(path, "path")?;
        let report = store.load(Source::Path(&path))?;
        let mut entries = Vec::new();
        for l in &report.images {
            let img = store.resolve(l.id.as_str())?;
            entries.push(Entry {
                names: l.names.iter().map(|n| n.familiar()).collect(),
                ..entry_of(&img)
            });
        }
        let warnings = report.warnings.join("\n");
        hand_out(List { entries, warnings }, out)
    })
}

/// Makes a one-layer image from a root filesystem tar (plain or gzip) at `path`, as `docker
/// import`, named `name` (e.g. "app:1"; NULL: no name). *out (may be NULL) gets the image.
#[unsafe(no_mangle)]
pub extern "C" fn image_import(
    store: *mut image_store,
    path: *const c_char,
    name: *const c_char,
    out: *mut *mut image_list,
) -> c_int {
    guard(|| {
        let store = try_mut_from_ptr!(store);
        let path = c_path(path, "path")?;
        let name = if name.is_null() {
            None
        } else {
            Some(c_str(name, "name")?)
        };
        let shown = path.display().to_string();
        let opts = ImportOptions {
            name,
            comment: Some(&shown),
            ..Default::default()
        };
        let (loaded, warnings) = store.import(Source::Path(&path), &opts)?;
        let img = store.resolve(loaded.id.as_str())?;
        let entries = vec![Entry {
            names: loaded.names.iter().map(|n| n.familiar()).collect(),
            ..entry_of(&img)
        }];
        let warnings = warnings.join("\n");
        hand_out(List { entries, warnings }, out)
    })
}

/// Gives the image `image` (a name, id or unique id prefix) the name `name`, as `docker tag`;
/// a name another image had moves. RT_STATUS_NO_SUCH_IMAGE, RT_STATUS_INVALID_ARG for a bad
/// name.
#[unsafe(no_mangle)]
pub extern "C" fn image_tag(
    store: *mut image_store,
    image: *const c_char,
    name: *const c_char,
) -> c_int {
    guard(|| {
        let store = try_mut_from_ptr!(store);
        store.tag(c_str(image, "image")?, c_str(name, "name")?)?;
        Ok(())
    })
}

/// True for an image that a container of this host was made from (its record names it): a
/// running one, or a stopped one kept for a later start.
fn used_by_a_container(id: &Digest) -> bool {
    let host = Host::default();
    let running = host.store().list();
    let kept = host.records().list();
    running
        .iter()
        .any(|r| r.image.as_deref() == Some(id.as_str()))
        || kept.iter().any(|r| {
            let image = r.spec.image.as_ref().and_then(|i| i.id.as_deref());
            image == Some(id.as_str())
        })
}

/// Removes `image`, as `docker rmi`: by name, that name goes, and the image with its last
/// name; by id, the image and all its names (several need RT_IMAGE_REMOVE_FORCE). An image a
/// container uses is never deleted: RT_STATUS_IN_USE, or with the flag only its names go.
/// Layers no image uses any more are deleted. *out (may be NULL) gets one entry: its names
/// are the names removed, its id the image deleted ("" when the image stays). Unknown flag
/// bits are refused.
#[unsafe(no_mangle)]
pub extern "C" fn image_remove(
    store: *mut image_store,
    image: *const c_char,
    flags: u32,
    out: *mut *mut image_list,
) -> c_int {
    guard(|| {
        let store = try_mut_from_ptr!(store);
        let key = c_str(image, "image")?;
        if flags & !RT_IMAGE_REMOVE_FORCE != 0 {
            let msg = format!(
                "unknown image_remove flags {:#x}",
                flags & !RT_IMAGE_REMOVE_FORCE
            );
            return Err(fail(rt_status::INVALID_ARG, msg));
        }
        let opts = RemoveOptions {
            force: flags & RT_IMAGE_REMOVE_FORCE != 0,
            in_use: &used_by_a_container,
        };
        let removed = store.remove(key, &opts)?;
        let entry = Entry {
            id: removed.deleted.map(|d| d.to_string()).unwrap_or_default(),
            names: removed.untagged.iter().map(|n| n.familiar()).collect(),
            created: String::new(),
            size: 0,
        };
        let list = List {
            entries: vec![entry],
            warnings: String::new(),
        };
        hand_out(list, out)
    })
}

/// Lists the store's images, newest first (as `docker images`). Writes *out only on success.
#[unsafe(no_mangle)]
pub extern "C" fn image_list_new(store: *const image_store, out: *mut *mut image_list) -> c_int {
    guard(|| {
        let store = try_ref_from_ptr!(store);
        out_param(out, "out")?;
        let entries = store.list()?.iter().map(entry_of).collect();
        let list = List {
            entries,
            warnings: String::new(),
        };
        image_list::into_out(list, out)
    })
}

/// Finds the image `image` names (a name such as "busybox" or "localhost/app:1", an id, or a
/// unique id prefix of at least 3 hex digits), as `docker run` would: *out gets one entry.
/// RT_STATUS_NO_SUCH_IMAGE when none matches, RT_STATUS_INVALID_ARG when several do.
#[unsafe(no_mangle)]
pub extern "C" fn image_find(
    store: *const image_store,
    image: *const c_char,
    out: *mut *mut image_list,
) -> c_int {
    guard(|| {
        let store = try_ref_from_ptr!(store);
        let key = c_str(image, "image")?;
        out_param(out, "out")?;
        let list = List {
            entries: vec![entry_of(&store.resolve(key)?)],
            warnings: String::new(),
        };
        image_list::into_out(list, out)
    })
}

/// Frees a list. NULL is a no-op.
#[unsafe(no_mangle)]
pub extern "C" fn image_list_free(list: *mut image_list) {
    guard_void(|| image_list::free(list))
}

/// Writes the number of entries to *out_count.
#[unsafe(no_mangle)]
pub extern "C" fn image_list_count(list: *const image_list, out_count: *mut usize) -> c_int {
    guard(|| {
        let list = try_ref_from_ptr!(list);
        *out_param(out_count, "out_count")? = list.entries.len();
        Ok(())
    })
}

fn entry(list: &List, index: usize) -> Result<&Entry, super::Failure> {
    list.entries.get(index).ok_or_else(|| {
        let msg = format!(
            "index {index} is out of range: the list has {} entries",
            list.entries.len()
        );
        fail(rt_status::INVALID_ARG, msg)
    })
}

/// Copies entry `index`'s image id ("sha256:" and 64 hex digits), NUL-terminated, into buf
/// (capacity cap); its length goes to *out_len (RT_STATUS_BUFFER_TOO_SMALL when cap is too
/// small). RT_STATUS_INVALID_ARG when index is not below the count.
#[unsafe(no_mangle)]
pub extern "C" fn image_list_id(
    list: *const image_list,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| {
        write_string(
            &entry(try_ref_from_ptr!(list), index)?.id,
            buf,
            cap,
            out_len,
        )
    })
}

/// Writes the number of names of entry `index` to *out_count (0 for an untagged image).
#[unsafe(no_mangle)]
pub extern "C" fn image_list_name_count(
    list: *const image_list,
    index: usize,
    out_count: *mut usize,
) -> c_int {
    guard(|| {
        let e = entry(try_ref_from_ptr!(list), index)?;
        *out_param(out_count, "out_count")? = e.names.len();
        Ok(())
    })
}

/// Copies name `name_index` of entry `index` ("busybox:latest", "localhost/app:1": Docker's
/// short form), as image_list_id does.
#[unsafe(no_mangle)]
pub extern "C" fn image_list_name(
    list: *const image_list,
    index: usize,
    name_index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| {
        let e = entry(try_ref_from_ptr!(list), index)?;
        let name = e.names.get(name_index).ok_or_else(|| {
            let msg = format!(
                "name index {name_index} is out of range: {} names",
                e.names.len()
            );
            fail(rt_status::INVALID_ARG, msg)
        })?;
        write_string(name, buf, cap, out_len)
    })
}

/// Copies entry `index`'s creation time as its config says (RFC 3339; "" if it has none).
#[unsafe(no_mangle)]
pub extern "C" fn image_list_created(
    list: *const image_list,
    index: usize,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| {
        write_string(
            &entry(try_ref_from_ptr!(list), index)?.created,
            buf,
            cap,
            out_len,
        )
    })
}

/// Writes entry `index`'s size (the sum of its layers' uncompressed sizes, bytes).
#[unsafe(no_mangle)]
pub extern "C" fn image_list_size(
    list: *const image_list,
    index: usize,
    out_size: *mut u64,
) -> c_int {
    guard(|| {
        let e = entry(try_ref_from_ptr!(list), index)?;
        *out_param(out_size, "out_size")? = e.size;
        Ok(())
    })
}

/// Copies the warnings of the load or import that made the list (one per line; "" if none),
/// as image_list_id does.
#[unsafe(no_mangle)]
pub extern "C" fn image_list_warnings(
    list: *const image_list,
    buf: *mut c_char,
    cap: usize,
    out_len: *mut usize,
) -> c_int {
    guard(|| write_string(&try_ref_from_ptr!(list).warnings, buf, cap, out_len))
}

/// Runs the container from the image `image` (a name, id or unique id prefix) of `store`
/// (NULL: the default store; the handle is not kept, only its directory): its layers become
/// the container's lower layers (container_config_add_layer layers go on top), and its
/// Entrypoint, Cmd, Env, WorkingDir and User apply as in `docker run`: container_config_set_argv
/// replaces Cmd, container_config_add_env entries override Env, _set_cwd and _set_user
/// override. Resolved by container_new (RT_STATUS_NO_SUCH_IMAGE); the rootfs must not be set
/// too, nor a shared rootfs asked for.
#[unsafe(no_mangle)]
pub extern "C" fn container_config_set_image(
    cfg: *mut container_config,
    store: *const image_store,
    image: *const c_char,
) -> c_int {
    guard(|| {
        let name = c_str(image, "image")?;
        if name.is_empty() {
            return Err(fail(rt_status::INVALID_ARG, "image is an empty string"));
        }
        let root: PathBuf = if store.is_null() {
            PathBuf::from(image::DEFAULT_ROOT)
        } else {
            try_ref_from_ptr!(store).root().to_path_buf()
        };
        let spec = try_mut_from_ptr!(cfg);
        spec.image = Some(ImageChoice {
            store: root,
            name: name.to_string(),
            id: None,
            entrypoint: Vec::new(),
            exposed_ports: Vec::new(),
        });
        Ok(())
    })
}
