"""File writing shared by the data-set builders (manpages_dataset.py, wordnet_dataset.py)."""
import os


def write_atomically(folder, name, lines):
    """Writes the lines (each followed by a newline) to folder/name through a temporary file, flushed to disk and
    renamed over the target, so a reader never sees a half-written file."""
    path = os.path.join(folder, name)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line)
            f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
