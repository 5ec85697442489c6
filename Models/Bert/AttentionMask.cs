using Xmc.Engine;

namespace Xmc.Models.Bert;

/// <summary>A batch's 0/1 attention mask [B, T] read to the host once, and the tensors derived from it.</summary>
public sealed class AttentionMask
{
    /// <summary>Added to the attention score of a padding key: exp underflows to exactly 0, and unlike −∞ a row
    /// with every key padded still gives finite (uniform) probabilities.</summary>
    public const float PaddingScore = -1e9f;

    /// <summary>Reads the Int32 mask <paramref name="mask"/> [B, T] (1 token, 0 padding).</summary>
    public AttentionMask(Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        if (mask.Shape.Rank != 2 || mask.DType != DType.Int32)
        {
            throw new ArgumentException($"attention mask: must be Int32 [B, T], got {mask.DType} {mask.Shape}", nameof(mask));
        }
        BatchSize = mask.Shape[0];
        SequenceLength = mask.Shape[1];
        Values = mask.ToArray<int>();
        Device = mask.Device;
        for (int i = 0; i < Values.Length; i++)
        {
            if (Values[i] is not (0 or 1))
            {
                throw new ArgumentException($"attention mask: element [{i / SequenceLength},{i % SequenceLength}] is {Values[i]}, expected 0 or 1", nameof(mask));
            }
        }
    }

    /// <summary>B.</summary>
    public int BatchSize { get; }

    /// <summary>T.</summary>
    public int SequenceLength { get; }

    /// <summary>The mask, row-major [B, T].</summary>
    public int[] Values { get; }

    /// <summary>Where the derived tensors are made.</summary>
    public Device Device { get; }

    /// <summary>[B, T] Float32: 0 on tokens, <see cref="PaddingScore"/> on padding — the softmax mask.</summary>
    public Tensor Additive() => Tensor.FromArray(Values.Select(m => m == 1 ? 0f : PaddingScore).ToArray(), new Shape(BatchSize, SequenceLength), Device);

    /// <summary>[B, 1, T] weights that pool a [B, T, d] sequence into [B, 1, d] by a batched product: one-hot
    /// on the first token (CLS), or 1/n on each of the row's n tokens (masked mean; an all-padding row pools to 0).</summary>
    public Tensor PoolingWeights(SequencePooling pooling)
    {
        var w = new float[Values.Length];
        for (int b = 0; b < BatchSize; b++)
        {
            var row = w.AsSpan(b * SequenceLength, SequenceLength);
            if (pooling == SequencePooling.Cls)
            {
                row[0] = 1f;
                continue;
            }
            int n = 0;
            for (int t = 0; t < SequenceLength; t++)
            {
                n += Values[b * SequenceLength + t];
            }
            for (int t = 0; t < SequenceLength; t++)
            {
                row[t] = Values[b * SequenceLength + t] / (float)Math.Max(n, 1);
            }
        }
        return Tensor.FromArray(w, new Shape(BatchSize, 1, SequenceLength), Device);
    }

    /// <summary>Pools <paramref name="hidden"/> [B, T, d] into [B, d].</summary>
    public Tensor Pool(Tensor hidden, SequencePooling pooling)
    {
        if (hidden.Shape.Rank != 3 || hidden.Shape[0] != BatchSize || hidden.Shape[1] != SequenceLength)
        {
            throw new ArgumentException($"pooling: hidden states {hidden.Shape} do not match the mask [{BatchSize},{SequenceLength}]", nameof(hidden));
        }
        return Ops.Reshape(Ops.MatMul(PoolingWeights(pooling), hidden), BatchSize, hidden.Shape[2]);
    }
}
