using Xmc.Engine;

namespace Xmc.Models.Xmc;

/// <summary>What an XMC model reads for one batch of points, on its device: the input of its encoder kind.
/// Made by the data side (tf-idf rows, tokenized text) inside the step's <see cref="TensorScope"/>.</summary>
public abstract class XmcBatch
{
    /// <summary>Points in the batch.</summary>
    public abstract int Count { get; }
}

/// <summary>A batch of sparse feature rows (tf-idf weighted bags of words), [B, features], for the bag-of-words encoder.</summary>
public sealed class SparseFeatureBatch(CsrTensor rows) : XmcBatch
{
    /// <summary>The rows.</summary>
    public CsrTensor Rows { get; } = rows ?? throw new ArgumentNullException(nameof(rows));

    /// <inheritdoc/>
    public override int Count => Rows.Rows;
}

/// <summary>A batch of token ids and their attention mask, both [B, T] Int32, for a transformer encoder.</summary>
public sealed class TokenIdBatch(Tensor inputIds, Tensor attentionMask) : XmcBatch
{
    /// <summary>[B, T] token ids, padded.</summary>
    public Tensor InputIds { get; } = inputIds ?? throw new ArgumentNullException(nameof(inputIds));

    /// <summary>[B, T]: 1 for a real token, 0 for padding.</summary>
    public Tensor AttentionMask { get; } = attentionMask ?? throw new ArgumentNullException(nameof(attentionMask));

    /// <inheritdoc/>
    public override int Count => InputIds.Shape[0];
}
