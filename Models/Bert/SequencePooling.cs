namespace Xmc.Models.Bert;

/// <summary>How a sequence of token vectors becomes one vector.</summary>
public enum SequencePooling
{
    /// <summary>The first token's ([CLS]) vector.</summary>
    Cls,

    /// <summary>The mean over the non-padding tokens.</summary>
    MaskedMean,
}
