"""Layer archives: safe tar apply (no escape), whiteouts both ways, tar-split, diffs.

    compression  sniff gzip/bzip2/xz/plain, streaming readers; deterministic gzip
    tree         symlink-proof dir-fd path resolution under one root
    tarreader    streaming tar parser that hands back every non-content byte
    apply        apply_layer(stream, dest, tarsplit_path) -> ApplyResult; apply_tar(stream, fd,
                 policy): the one applier every unpacked archive goes through
    unpack       unpack_checked (cp: check the whole tar, then apply), is_tar, copy_tree, piped
    tarsplit     tar-split record; write_layer_tar regenerates the exact layer tar
    export       write_tree_tar / write_diff_tar / EntryWriter: trees, upper dirs, container walks
    changes      changes(upper, lowers) for `docker diff`

Kept empty of imports so `import pallet.archive.x` stays cheap.
"""
