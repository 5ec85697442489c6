namespace Xmc.Training.Data;

/// <summary>Opens a data set in whichever supported format the file is: the binary cache (by its magic bytes),
/// the LF-* raw-text JSONL format (<c>.jsonl</c>/<c>.json</c>, with a label-title file), or the Extreme
/// Classification Repository's sparse bag-of-words text format (anything else). A set without points, or
/// without labels, is refused: nothing can be trained or measured on it.</summary>
public static class DatasetLoader
{
    /// <summary>Loads <paramref name="path"/>; <paramref name="labelTitles"/> is required for JSONL.</summary>
    /// <exception cref="XmcDataException">The file cannot be read, is malformed, or holds no points or no labels.</exception>
    /// <exception cref="Engine.Memory.DeviceOutOfMemoryException">The label and feature counts are too large for the host's memory.</exception>
    public static XmcDataset Load(string path, string? labelTitles = null)
    {
        XmcDataset data;
        bool text = false;
        if (DatasetCache.IsCache(path))
        {
            data = DatasetCache.Read(path);
        }
        else
        {
            var ext = Path.GetExtension(path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path).ToLowerInvariant();
            if (ext is ".jsonl" or ".json")
            {
                if (labelTitles is null)
                {
                    throw new XmcDataException(path, "a raw-text JSONL data set needs its label-title file", "give it with data.labelTitles=FILE");
                }
                data = RawTextJsonlReader.Read(path, labelTitles);
                if (data.NumLabels == 0)
                {
                    throw new XmcDataException(labelTitles, 1, 1, "the label-title file holds no labels", "Give the label file of the data set: one JSON object per label");
                }
            }
            else
            {
                data = SparseBowReader.Read(path);
                text = true;
            }
        }
        // a header may claim any count up to 2^31 - 1; the per-label and per-feature arrays every user of the set
        // builds (label counts, propensities, idf) must fit before they are made
        Loop.MemoryFloor.CheckHost($"the per-label and per-feature statistics of {path} ({data.NumLabels} labels, {data.NumFeatures} features in its header)",
            24.0 * data.NumLabels + Loop.MemoryFloor.IdfBytesPerFeature * data.NumFeatures);
        if (data.NumPoints == 0)
        {
            throw Unusable(path, text, "the data set has no points (its header says 0)", "the file holds no points", "Give a file with at least one point");
        }
        if (data.NumLabels == 0)
        {
            throw Unusable(path, text, "the header says 0 labels", "the data set has 0 labels", "Give a labelled file: the header is `points features labels`, labels ≥ 1");
        }
        return data;
    }

    private static XmcDataException Unusable(string path, bool sparseText, string headerReason, string reason, string remedy)
        => sparseText ? new XmcDataException(path, 1, 1, headerReason, remedy) : new XmcDataException(path, reason, remedy);
}
