using Xmc.Engine;

namespace Xmc.Models;

/// <summary>Training mode and the Philox stream that every dropout of one model draws from. Each dropout call
/// reserves fresh blocks of the stream, so masks never repeat within a run and a run restarted at the same
/// (seed, offset) draws the same masks. In evaluation mode dropout is the identity.</summary>
public sealed class DropoutContext
{
    /// <summary>Whether dropout is active.</summary>
    public bool Training { get; private set; }

    /// <summary>The stream masks are drawn from (null until <see cref="Train"/>).</summary>
    public PhiloxStream? Stream { get; private set; }

    /// <summary>Turns dropout on, drawing masks from <paramref name="stream"/>.</summary>
    public void Train(PhiloxStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Stream = stream;
        Training = true;
    }

    /// <summary>Turns dropout off (the stream keeps its position for a later <see cref="Train"/>).</summary>
    public void Eval() => Training = false;

    /// <summary>Inverted dropout with probability <paramref name="p"/> when training, else <paramref name="x"/> itself.</summary>
    public Tensor Apply(Tensor x, float p)
        => Training && p > 0f ? Ops.Dropout(x, p, Stream!, training: true) : x;
}
