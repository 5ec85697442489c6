namespace Xmc.Tests.Cuda;

/// <summary>Philox draws on the GPU against the CPU: uniforms and dropout masks bit for bit (same words, same
/// float32 operations); normals to the rounding of logf/sincosf, 2e-6 absolute + 1e-5 relative. Dropout's
/// backward is the same call on the gradient, so it is the same mask.</summary>
public class ParityRandomTests
{
    [Theory]
    [InlineData(1, 0UL)]
    [InlineData(7, 3UL)]
    [InlineData(10_001, (1UL << 32) + 5)]
    public void Draws_match_the_cpu(int n, ulong offset)
    {
        using var p = Parity.OpenOrSkip();
        const ulong seed = 0x1234_5678_9ABC_DEF0UL;
        var y = p.Zeros(n * 4L);
        p.Both((be, at) => be.FillUniform(at(y), n, seed, offset, -0.5f, 2f));
        p.AssertSame(y, "uniform");
        p.Both((be, at) => be.FillNormal(at(y), n, seed, offset, 1f, 0.5f));
        p.AssertClose(y, n, 2e-6, 1e-5, "normal");
        var x = p.Upload(Parity.Floats(n, 1));
        var dropped = p.Zeros(n * 4L);
        p.Both((be, at) => be.Dropout(at(x), at(dropped), n, 0.3f, seed, offset));
        p.AssertSame(dropped, "dropout");
        p.Both((be, at) => be.Dropout(at(x), at(x), n, 0.5f, seed + 1, offset));
        p.AssertSame(x, "dropout in place");
    }
}
