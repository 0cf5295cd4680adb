//! `docker run IMAGE`: an image's layers and config turned into a container spec, by Docker's
//! rules (the user's command replaces Cmd and keeps Entrypoint, `-e` overrides Env, `-w` and
//! `-u` override WorkingDir and User). ExposedPorts publish nothing by themselves (Docker
//! publishes them only with `-P`); they stay in the image's config.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use super::error::{ImageError, Result};
use super::store::{Image, Store};
use crate::spec::ContainerSpec;

/// Resolves `spec.image` in its store and applies it: the layers become the container's lower
/// layers (the image's lowest as `rootfs`, the caller's extra `layers` on top), and the
/// config fills the process fields the caller did not set. A spec without an image is left
/// alone.
pub fn apply(spec: &mut ContainerSpec) -> Result<()> {
    let Some(choice) = spec.image.clone() else {
        return Ok(());
    };
    if !spec.rootfs.as_os_str().is_empty() {
        return Err(ImageError::Invalid(format!(
            "both a rootfs ({}) and an image ({}) given: choose one",
            spec.rootfs.display(),
            choice.name
        )));
    }
    let img = Store::open(&choice.store)?.resolve(&choice.name)?;
    let Some((lowest, above)) = img.layer_dirs.split_first() else {
        return Err(ImageError::Invalid(format!(
            "image {} has no layers: nothing to run",
            choice.name
        )));
    };
    spec.rootfs = lowest.clone();
    spec.layers = above.iter().cloned().chain(spec.layers.drain(..)).collect();
    spec.args = argv(&img, spec)?;
    spec.env = merge_env(&img.config.env, &spec.env);
    if !spec.explicit.cwd {
        spec.cwd = PathBuf::from(img.config.working_dir_or(None));
        crate::spec::validate_container_path("the image's WorkingDir", &spec.cwd)
            .map_err(|e| ImageError::Invalid(e.to_string()))?;
    }
    if let (false, Some(user)) = (spec.explicit.user, &img.config.user) {
        (spec.uid, spec.gid, spec.additional_gids) = resolve_user(&img.layer_dirs, user)?;
    }
    if let Some(i) = spec.image.as_mut() {
        i.id = Some(img.id.to_string());
        i.entrypoint = img.config.entrypoint.clone().unwrap_or_default();
        i.exposed_ports = img.config.exposed_ports.clone();
    }
    Ok(())
}

/// Entrypoint + (the caller's command, or else Cmd).
fn argv(img: &Image, spec: &ContainerSpec) -> Result<Vec<OsString>> {
    let os = |v: &[String]| v.iter().map(OsString::from).collect::<Vec<_>>();
    let mut args = os(img.config.entrypoint.as_deref().unwrap_or_default());
    if spec.explicit.args {
        args.extend(spec.args.iter().cloned());
    } else {
        args.extend(os(img.config.cmd.as_deref().unwrap_or_default()));
    }
    if args.is_empty() {
        return Err(ImageError::Invalid(
            "no command specified: the image has no Entrypoint or Cmd".into(),
        ));
    }
    Ok(args)
}

fn env_key(e: &[u8]) -> &[u8] {
    e.split(|&b| b == b'=').next().unwrap_or(e)
}

/// The image's Env with the caller's KEY=VALUE entries replacing or appended.
fn merge_env(image: &[String], user: &[OsString]) -> Vec<OsString> {
    let mut env: Vec<OsString> = image.iter().map(OsString::from).collect();
    for e in user {
        let key = env_key(e.as_bytes());
        match env.iter().position(|x| env_key(x.as_bytes()) == key) {
            Some(i) => env[i] = e.clone(),
            None => env.push(e.clone()),
        }
    }
    env
}

/// The file `rel` (e.g. "etc/passwd") as the overlay of `layers` (lowest first) shows it:
/// the topmost layer that has it as a regular file, unless a whiteout, an opaque directory
/// or a symbolic link on the way hides it (links are not followed: the file is then not
/// found, never read from outside the layers).
pub(crate) fn file_in_layers(layers: &[PathBuf], rel: &str) -> Option<PathBuf> {
    let comps: Vec<&str> = rel.split('/').filter(|c| !c.is_empty()).collect();
    for layer in layers.iter().rev() {
        let mut path = layer.clone();
        let mut opaque = false;
        for (i, c) in comps.iter().enumerate() {
            path.push(c);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                break; // absent here: look in the layer below, unless an opaque dir hid it
            };
            let ft = meta.file_type();
            if (ft.is_char_device() && meta.rdev() == 0) || ft.is_symlink() {
                return None;
            }
            if i + 1 == comps.len() {
                return ft.is_file().then_some(path);
            }
            if !ft.is_dir() {
                return None;
            }
            opaque |= is_opaque(&path);
        }
        if opaque {
            return None;
        }
    }
    None
}

fn is_opaque(dir: &Path) -> bool {
    let Ok(p) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    let mut v = [0u8; 2];
    // SAFETY: NUL-terminated strings and a buffer of the length passed.
    let n = unsafe {
        libc::lgetxattr(
            p.as_ptr(),
            c"trusted.overlay.opaque".as_ptr(),
            v.as_mut_ptr().cast(),
            v.len(),
        )
    };
    n == 1 && v[0] == b'y'
}

/// Looks `name` up in a passwd or group file's text: field 0 is the name, `id_field` the id;
/// returns the line's fields.
fn lookup<'a>(text: &'a str, name: &str, id_field: usize) -> Option<Vec<&'a str>> {
    text.lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > id_field && (f[0] == name || f[id_field] == name))
}

/// The image's User (`name`, `uid`, `name:group`, `uid:gid`) as uid, gid and supplementary
/// gids, from the image's /etc/passwd and /etc/group as runc reads them: a number need not be
/// listed (its gid is then its passwd entry's, or 0), a name must be. Without an explicit
/// group, the user listed in the image's passwd gets the groups that list it as a member.
pub(crate) fn resolve_user(layers: &[PathBuf], user: &str) -> Result<(u32, u32, Vec<u32>)> {
    let read = |rel: &str| {
        file_in_layers(layers, rel)
            .and_then(|p| std::fs::read(p).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let bad = |what: &str| ImageError::Invalid(format!("the image's User {user:?}: {what}"));
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let passwd = read("etc/passwd");
    let entry = lookup(&passwd, u, 2);
    let uid = match (u.parse::<u32>(), &entry) {
        (Ok(n), _) => n,
        (Err(_), Some(f)) => f[2].parse().map_err(|_| bad("bad passwd entry"))?,
        (Err(_), None) => {
            return Err(bad("no matching entries in the image's /etc/passwd"));
        }
    };
    let gid = match g {
        None => entry
            .as_ref()
            .and_then(|f| f.get(3)?.parse().ok())
            .unwrap_or(0),
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => lookup(&read("etc/group"), g, 2)
                .and_then(|f| f[2].parse().ok())
                .ok_or_else(|| bad("no matching group in the image's /etc/group"))?,
        },
    };
    crate::spec::validate_user(uid, gid).map_err(|e| bad(&e.to_string()))?;
    let mut groups: Vec<u32> = Vec::new();
    if let (None, Some(name)) = (g, entry.as_ref().map(|f| f[0])) {
        for f in read("etc/group")
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
        {
            let member = f
                .get(3)
                .is_some_and(|m| m.split(',').any(|m| m.trim() == name));
            if let (true, Some(Ok(id))) = (member, f.get(2).map(|id| id.parse::<u32>())) {
                if !groups.contains(&id) {
                    groups.push(id);
                }
            }
        }
    }
    Ok((uid, gid, groups))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn env_merge_replaces_and_appends() {
        let got = merge_env(
            &["PATH=/img".into(), "A=1".into()],
            &["A=2".into(), "B=3".into()],
        );
        assert_eq!(
            got,
            vec![OsStr::new("PATH=/img"), "A=2".as_ref(), "B=3".as_ref()]
        );
    }

    #[test]
    fn users_resolve_through_the_top_layer() {
        let t = tempfile::tempdir().unwrap();
        let (low, high) = (t.path().join("low"), t.path().join("high"));
        std::fs::create_dir_all(low.join("etc")).unwrap();
        std::fs::create_dir_all(high.join("etc")).unwrap();
        std::fs::write(
            low.join("etc/passwd"),
            "root:x:0:0::/:/bin/sh\nold:x:5:5::/:\n",
        )
        .unwrap();
        std::fs::write(
            high.join("etc/passwd"),
            "root:x:0:0::/:/bin/sh\napp:x:1000:1001::/:\n",
        )
        .unwrap();
        std::fs::write(
            low.join("etc/group"),
            "root:x:0:\nstaff:x:50:\nwheel:x:10:root,app\naudio:x:29:other, app\n",
        )
        .unwrap();
        let layers = vec![low.clone(), high.clone()];
        assert_eq!(
            resolve_user(&layers, "app").unwrap(),
            (1000, 1001, vec![10, 29])
        );
        assert_eq!(
            resolve_user(&layers, "app:staff").unwrap(),
            (1000, 50, vec![])
        );
        assert_eq!(
            resolve_user(&layers, "1000").unwrap(),
            (1000, 1001, vec![10, 29])
        );
        assert_eq!(resolve_user(&layers, "77").unwrap(), (77, 0, vec![]));
        assert_eq!(resolve_user(&layers, "77:8").unwrap(), (77, 8, vec![]));
        assert_eq!(resolve_user(&layers, "root").unwrap(), (0, 0, vec![10]));
        let err = resolve_user(&layers, "old").unwrap_err().to_string();
        assert!(err.contains("no matching entries"), "{err}");
        assert!(resolve_user(&layers, "app:nogroup").is_err());
        // A symlinked /etc/passwd is not followed out of the layers.
        std::fs::remove_file(high.join("etc/passwd")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", high.join("etc/passwd")).unwrap();
        assert!(file_in_layers(&layers, "etc/passwd").is_none());
        assert!(resolve_user(&layers, "root").is_err());
        // Without the link, the lower layer's file shows through.
        std::fs::remove_file(high.join("etc/passwd")).unwrap();
        assert_eq!(
            file_in_layers(&layers, "etc/passwd"),
            Some(low.join("etc/passwd"))
        );
    }
}
