using Xmc.Engine;
using Xmc.Engine.Memory;

namespace Xmc.Models.Text;

/// <summary>A batch of tokenized texts, row-major [BatchSize, SequenceLength]: each row is [CLS] pieces [SEP]
/// followed by [PAD], with attention mask 1 on real tokens and 0 on padding.</summary>
public sealed class TokenBatch
{
    internal TokenBatch(int batchSize, int sequenceLength, int[] inputIds, int[] attentionMask, int[] lengths)
    {
        BatchSize = batchSize;
        SequenceLength = sequenceLength;
        InputIds = inputIds;
        AttentionMask = attentionMask;
        Lengths = lengths;
    }

    /// <summary>Number of texts.</summary>
    public int BatchSize { get; }

    /// <summary>Length of every row after padding.</summary>
    public int SequenceLength { get; }

    /// <summary>Token ids, BatchSize × SequenceLength.</summary>
    public int[] InputIds { get; }

    /// <summary>1 for real tokens (including [CLS] and [SEP]), 0 for padding; same layout as <see cref="InputIds"/>.</summary>
    public int[] AttentionMask { get; }

    /// <summary>Number of real tokens per row.</summary>
    public int[] Lengths { get; }

    /// <summary>The ids and the mask as Int32 tensors of shape [BatchSize, SequenceLength] (scope-tracked).</summary>
    public (Tensor InputIds, Tensor AttentionMask) ToTensors(Device? device = null, MemoryCategory category = MemoryCategory.Data)
    {
        var shape = new Shape(BatchSize, SequenceLength);
        var ids = Tensor.FromArray(InputIds, shape, device, category);
        try
        {
            return (ids, Tensor.FromArray(AttentionMask, shape, device, category));
        }
        catch
        {
            ids.Dispose();
            throw;
        }
    }
}
