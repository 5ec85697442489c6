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

    /// <summary>The mode and stream position now: what a recomputed forward replays (see <see cref="Replay"/>).</summary>
    public DropoutState Capture() => new(Training, Stream?.Seed ?? 0, Stream?.Offset ?? 0);

    /// <summary>Until the handle is disposed, dropout runs in the mode of <paramref name="state"/> and draws its
    /// masks from a copy of the stream at the captured position, so a forward re-run during the backward
    /// (activation recomputation) draws exactly the masks of the first run; this context's own stream stays where
    /// it is.</summary>
    public IDisposable Replay(DropoutState state)
    {
        var (training, stream) = (Training, Stream);
        Training = state.Training;
        Stream = state.Training ? new PhiloxStream(state.Seed, state.Offset) : stream;
        return new ReplayScope(this, training, stream);
    }

    private sealed class ReplayScope(DropoutContext context, bool training, PhiloxStream? stream) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (!_done)
            {
                _done = true;
                context.Training = training;
                context.Stream = stream;
            }
        }
    }

    /// <summary>dropout(<paramref name="a"/>)·<paramref name="b"/> for batched operands when training (one fused op
    /// that keeps a, not its dropped-out copy, for the backward: <see cref="Ops.DropoutMatMul"/>), else a·b. Draws
    /// the same mask from the stream as <see cref="Apply"/> on a would.</summary>
    public Tensor MatMulDropped(Tensor a, Tensor b, float p)
        => Training && p > 0f ? Ops.DropoutMatMul(a, b, p, Stream!.Seed, Stream.Reserve(a.Numel)) : Ops.MatMul(a, b);

    /// <summary>Inverted dropout with probability <paramref name="p"/> when training, else <paramref name="x"/> itself.</summary>
    public Tensor Apply(Tensor x, float p)
        => Training && p > 0f ? Ops.Dropout(x, p, Stream!, training: true) : x;
}

/// <summary>A dropout context's mode and stream position at one point of a forward pass.</summary>
/// <param name="Training">Whether dropout was active.</param>
/// <param name="Seed">The stream's seed (0 when not training).</param>
/// <param name="Offset">The stream's next block (0 when not training).</param>
public readonly record struct DropoutState(bool Training, ulong Seed, ulong Offset);
