namespace Xmc.Bench.Suites;

/// <summary>The GEMMs of the encoder's linear layers, one definition for the CPU (<c>gemm</c>) and GPU
/// (<c>gpu-gemm</c>) suites: y = x·Wᵀ over <see cref="Tokens"/> tokens (32 sequences of 128), x [M = tokens, K],
/// W [N, K], for the BERT-base and BERT-mini attention projections and feed-forward layers.</summary>
internal static class EncoderGemmShapes
{
    /// <summary>Tokens of one batch: the M of every linear-layer GEMM.</summary>
    public const int Tokens = 4096;

    public static readonly (string Label, int M, int K, int N)[] Linear =
    [
        ("base_attn_proj", Tokens, 768, 768), ("base_ffn_up", Tokens, 768, 3072), ("base_ffn_down", Tokens, 3072, 768),
        ("mini_attn_proj", Tokens, 256, 256), ("mini_ffn_up", Tokens, 256, 1024), ("mini_ffn_down", Tokens, 1024, 256),
    ];
}
