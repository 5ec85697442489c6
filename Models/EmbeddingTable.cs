using Xmc.Engine;

namespace Xmc.Models;

/// <summary>A lookup table <c>weight</c> [rows, dim] indexed by Int32 ids (word, position or token-type
/// embeddings).</summary>
public sealed class EmbeddingTable : Module
{
    /// <summary>Creates the table with entries drawn N(0, <paramref name="std"/>²) from <paramref name="init"/>.</summary>
    public EmbeddingTable(int rows, int dim, PhiloxStream init, float std = 0.02f, Device? device = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        Weight = Register("weight", new Parameter(new Shape(rows, dim), DType.Float32, device ?? Device.Default));
        ParameterInit.Normal(Weight, init, std);
    }

    /// <summary>[rows, dim].</summary>
    public Parameter Weight { get; }

    /// <summary>ids [...] → [..., dim].</summary>
    public Tensor Forward(Tensor ids) => Ops.Embedding(Weight.Data, ids);
}
