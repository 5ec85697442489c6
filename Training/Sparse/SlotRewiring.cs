using Xmc.Engine;
using Xmc.Models;

namespace Xmc.Training.Sparse;

/// <summary>The host-side rewrite of fixed fan-in rows shared by the algorithms that choose their connections on
/// the host (GSE, RigL/SRigL): per row, some slots are dropped and as many new inputs grown; the row is re-sorted
/// by input, a survivor's value and every slot-aligned state entry (optimizer moments, a held gradient) move with
/// it to its new slot, a grown connection's value is <see cref="NewValue"/> and its state entries 0 — the same
/// contract as SET's kernel (<c>IBackend.SetPruneRegrow</c>), so every algorithm resets the optimizer state of the
/// slots it changes through the one path the controller hands it. CPU tensors only. Rows are independent:
/// <see cref="Rewrite"/> may run for different rows on different threads.</summary>
internal sealed unsafe class SlotRewiring
{
    private readonly nint _values, _indices;
    private readonly nint[] _state;
    private readonly bool _bf16, _wide;

    public SlotRewiring(FixedFanInLinear layer, IReadOnlyList<Tensor> slotState, float newValue = 0f)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(slotState);
        var v = layer.Values.Data;
        if (v.Device.Kind != DeviceKind.Cpu)
        {
            throw new NotSupportedException($"dst: the host rewiring runs on CPU tensors; the layer is on {v.Device}");
        }
        foreach (var s in slotState)
        {
            if (s.DType != DType.Float32 || s.Shape != v.Shape || s.Device != v.Device)
            {
                throw new ArgumentException($"dst: slot state must be Float32 {v.Shape} on {v.Device}, got {s.DType} {s.Shape} on {s.Device}");
            }
        }
        Layer = layer;
        NewValue = newValue;
        _values = v.Address;
        _indices = layer.Indices.Data.Address;
        _state = slotState.Select(s => s.Address).ToArray();
        _bf16 = v.DType == DType.BFloat16;
        _wide = layer.IndexType == DType.Int32;
    }

    public FixedFanInLinear Layer { get; }

    /// <summary>The value a grown connection starts with.</summary>
    public float NewValue { get; }

    /// <summary>Input of slot <paramref name="slot"/> of <paramref name="row"/>.</summary>
    public int Input(long row, int slot)
    {
        long p = row * Layer.FanIn + slot;
        return _wide ? ((int*)_indices)[p] : ((ushort*)_indices)[p];
    }

    /// <summary>|value| of slot <paramref name="slot"/> of <paramref name="row"/>.</summary>
    public float Magnitude(long row, int slot)
    {
        long p = row * Layer.FanIn + slot;
        return MathF.Abs(_bf16 ? (float)((BFloat16*)_values)[p] : ((float*)_values)[p]);
    }

    /// <summary>Copies row <paramref name="row"/>'s inputs (ascending) into <paramref name="inputs"/>.</summary>
    public void Row(long row, Span<int> inputs)
    {
        for (int j = 0; j < Layer.FanIn; j++)
        {
            inputs[j] = Input(row, j);
        }
    }

    /// <summary>Drops the slots flagged in <paramref name="dropped"/> (length k) and grows
    /// <paramref name="grow"/> (distinct inputs the row does not hold, as many as dropped, any order; sorted in
    /// place). Returns the number of slots changed.</summary>
    public int Rewrite(long row, ReadOnlySpan<bool> dropped, Span<int> grow)
    {
        int k = Layer.FanIn;
        grow.Sort();
        Span<int> oldInputs = k <= 512 ? stackalloc int[k] : new int[k];
        Span<int> source = k <= 512 ? stackalloc int[k] : new int[k];
        Span<int> inputs = k <= 512 ? stackalloc int[k] : new int[k];
        Row(row, oldInputs);
        int at = 0, g = 0;
        for (int j = 0; j <= k; j++)
        {
            // merge survivors (ascending) with the grown inputs (ascending)
            if (j < k && dropped[j])
            {
                continue;
            }
            int next = j < k ? oldInputs[j] : int.MaxValue;
            while (g < grow.Length && grow[g] < next)
            {
                source[at] = -1;
                inputs[at++] = grow[g++];
            }
            if (next != int.MaxValue)
            {
                source[at] = j;
                inputs[at++] = next;
            }
        }
        if (at != k || g != grow.Length)
        {
            throw new InvalidOperationException($"dst: row {row} would hold {at} connections after growing {grow.Length} (fan-in {k}): the grown inputs must be distinct, new to the row and as many as the dropped slots");
        }
        long b = row * k;
        if (_bf16)
        {
            Permute((BFloat16*)_values + b, source, (BFloat16)NewValue);
        }
        else
        {
            Permute((float*)_values + b, source, NewValue);
        }
        foreach (var s in _state)
        {
            Permute((float*)s + b, source, 0f);
        }
        for (int j = 0; j < k; j++)
        {
            if (_wide)
            {
                ((int*)_indices)[b + j] = inputs[j];
            }
            else
            {
                ((ushort*)_indices)[b + j] = (ushort)inputs[j];
            }
        }
        return grow.Length;
    }

    private static void Permute<T>(T* row, ReadOnlySpan<int> source, T fresh) where T : unmanaged
    {
        int k = source.Length;
        Span<T> old = k <= 512 ? stackalloc T[k] : new T[k];
        new Span<T>(row, k).CopyTo(old);
        for (int j = 0; j < k; j++)
        {
            row[j] = source[j] < 0 ? fresh : old[source[j]];
        }
    }

    /// <summary>Flags in <paramref name="dropped"/> the <paramref name="n"/> slots of smallest |value| of
    /// <paramref name="row"/> (ties: lower slot first).</summary>
    public void SmallestMagnitudes(long row, int n, Span<bool> dropped)
    {
        int k = Layer.FanIn;
        dropped[..k].Clear();
        if (n <= 0)
        {
            return;
        }
        Span<ulong> keys = k <= 512 ? stackalloc ulong[k] : new ulong[k];
        for (int j = 0; j < k; j++)
        {
            // a non-negative float's bits order as the float does; the slot breaks ties
            keys[j] = ((ulong)BitConverter.SingleToUInt32Bits(Magnitude(row, j)) << 32) | (uint)j;
        }
        keys.Sort();
        for (int t = 0; t < Math.Min(n, k); t++)
        {
            dropped[(int)(uint)keys[t]] = true;
        }
    }
}
