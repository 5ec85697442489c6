using Xmc.Engine;

namespace Xmc.Models.Bert;

/// <summary>Word + position + token-type embeddings, then LayerNorm and dropout
/// (<c>embeddings.word_embeddings</c>, <c>position_embeddings</c>, <c>token_type_embeddings</c>, <c>LayerNorm</c>).</summary>
public sealed class BertEmbeddings : Module
{
    private readonly BertConfig _config;
    private readonly DropoutContext _dropout;

    /// <summary>Creates the tables with weights drawn from <paramref name="init"/>.</summary>
    public BertEmbeddings(BertConfig config, PhiloxStream init, DropoutContext dropout, Device? device = null)
    {
        _config = config;
        _dropout = dropout;
        Words = Register("word_embeddings", new EmbeddingTable(config.VocabSize, config.HiddenSize, init, config.InitializerRange, device));
        Positions = Register("position_embeddings", new EmbeddingTable(config.MaxPositionEmbeddings, config.HiddenSize, init, config.InitializerRange, device));
        TokenTypes = Register("token_type_embeddings", new EmbeddingTable(config.TypeVocabSize, config.HiddenSize, init, config.InitializerRange, device));
        Norm = Register("LayerNorm", new LayerNormModule(config.HiddenSize, config.LayerNormEps, device));
    }

    /// <summary>[vocab, d].</summary>
    public EmbeddingTable Words { get; }

    /// <summary>[max positions, d].</summary>
    public EmbeddingTable Positions { get; }

    /// <summary>[type vocab, d].</summary>
    public EmbeddingTable TokenTypes { get; }

    /// <summary>The LayerNorm after the sum.</summary>
    public LayerNormModule Norm { get; }

    /// <summary>ids [B, T] (Int32) and optional token types [B, T] (zeros when null) → [B, T, d]; positions
    /// are 0 … T−1 in every row.</summary>
    public Tensor Forward(Tensor inputIds, Tensor? tokenTypeIds = null)
    {
        if (inputIds.Shape.Rank != 2)
        {
            throw new ArgumentException($"bert embeddings: input ids must be [B, T], got {inputIds.Shape}", nameof(inputIds));
        }
        int b = inputIds.Shape[0], t = inputIds.Shape[1];
        if (t > _config.MaxPositionEmbeddings)
        {
            throw new ArgumentException($"bert embeddings: sequence length {t} exceeds max_position_embeddings {_config.MaxPositionEmbeddings}", nameof(inputIds));
        }
        if (tokenTypeIds is not null && tokenTypeIds.Shape != inputIds.Shape)
        {
            throw new ArgumentException($"bert embeddings: token type ids {tokenTypeIds.Shape} must match input ids {inputIds.Shape}", nameof(tokenTypeIds));
        }
        var positionIds = new int[b * t];
        for (int i = 0; i < positionIds.Length; i++)
        {
            positionIds[i] = i % t;
        }
        var positions = Tensor.FromArray(positionIds, inputIds.Shape, inputIds.Device);
        var types = tokenTypeIds ?? Tensor.Zeros(inputIds.Shape, DType.Int32, inputIds.Device);
        var sum = Ops.Add(Ops.Add(Words.Forward(inputIds), Positions.Forward(positions)), TokenTypes.Forward(types));
        return _dropout.Apply(Norm.Forward(sum), _config.HiddenDropoutProb);
    }
}
