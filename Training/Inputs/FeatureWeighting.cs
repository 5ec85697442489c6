namespace Xmc.Training.Inputs;

/// <summary>How the bag-of-words encoder weights the values a sparse file holds before each row is scaled to unit
/// L2 norm (config field <c>data.weighting</c>; spellings in <c>TrainConfigNames.Weighting</c>).</summary>
public enum FeatureWeighting
{
    /// <summary>What the training file needs: integer counts get <see cref="TfIdf"/>, any other values
    /// <see cref="AsIs"/> (they are already weighted; idf on top would count it twice); the built-in synthetic set
    /// (1 + ln tf without idf) gets <see cref="TfIdf"/>. Resolved once, before training; a run stores the weighting
    /// it applied.</summary>
    Auto,

    /// <summary>value · idf, idf = ln((1 + N) / (1 + df)) + 1 fitted on the training split.</summary>
    TfIdf,

    /// <summary>(1 + ln value) · idf for positive values (0 otherwise): damps repeated words.</summary>
    LogTfIdf,

    /// <summary>The file's values unchanged (for files that already carry tf-idf or other weights).</summary>
    AsIs,
}
