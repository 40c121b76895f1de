/* Unpacking a dataset archive safely, all or nothing.
 *
 * The archive (any compression libarchive reads, tar inside) unpacks into
 * a temporary folder CACHE/.NAME.tmp-XXXXXX; only when every entry is
 * written is its top folder renamed to CACHE/NAME, so CACHE/NAME exists only
 * complete. An entry whose path is absolute or has a ".." component, a
 * hard link to such a path, a symbolic link that could lead outside the
 * dataset folder, and device or FIFO entries are refused before anything is
 * written for them; libarchive's own SECURE checks stand behind ours. On
 * any failure or signal the temporary folder is removed. */
#ifndef NOISETTE_GET_EXTRACT_H
#define NOISETTE_GET_EXTRACT_H

/* Unpacks archive into cache/name: the archive's folder called name, or
 * its only top-level folder, which must hold train/ and val/. With replace,
 * an existing cache/name is replaced (removed once the new one is in
 * place); without, it is an error (ERR_EXISTS). Fails with ERR_PARSE for a
 * damaged or truncated archive, ERR_INVALID for a refused entry or an
 * archive that is not a dataset (both name the entry or what is missing),
 * ERR_IO for a write error or a signal (get_interrupt_pending). */
int get_extract(const char *archive, const char *cache, const char *name, int replace);

/* 1 if an archive entry path is relative and has no ".." component. */
int get_entry_path_is_safe(const char *path);

/* 1 if a symbolic link at entry path link (already safe) pointing to target
 * stays inside the link's top-level folder whatever the other links are:
 * target is relative, its ".." components all come first and climb no
 * higher than that top folder. "../val/x" from "d/train/l" is fine;
 * "/etc", "../../x" and "a/../b" are not (through another link "a/.."
 * can end anywhere). */
int get_link_is_safe(const char *link, const char *target);

#endif
