namespace Xmc.Training.Data;

/// <summary>Opens a data set in whichever supported format the file is: the binary cache (by its magic bytes),
/// the LF-* raw-text JSONL format (<c>.jsonl</c>/<c>.json</c>, with a label-title file), or the Extreme
/// Classification Repository's sparse bag-of-words text format (anything else).</summary>
public static class DatasetLoader
{
    /// <summary>Loads <paramref name="path"/>; <paramref name="labelTitles"/> is required for JSONL.</summary>
    public static XmcDataset Load(string path, string? labelTitles = null)
    {
        if (!File.Exists(path))
        {
            throw new XmcDataException(path, "data file not found", "check the path given as data.train / data.test");
        }
        if (DatasetCache.IsCache(path))
        {
            return DatasetCache.Read(path);
        }
        var ext = Path.GetExtension(path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path).ToLowerInvariant();
        if (ext is ".jsonl" or ".json")
        {
            if (labelTitles is null)
            {
                throw new XmcDataException(path, "a raw-text JSONL data set needs its label-title file", "give it with data.labelTitles=FILE");
            }
            return RawTextJsonlReader.Read(path, labelTitles);
        }
        return SparseBowReader.Read(path);
    }
}
