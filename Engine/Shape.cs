using System.Collections.Immutable;

namespace Xmc.Engine;

/// <summary>An immutable tensor shape (row-major, no strides).</summary>
public readonly struct Shape : IEquatable<Shape>
{
    private readonly ImmutableArray<int> _dims;

    /// <summary>Creates a shape; every dimension must be ≥ 0.</summary>
    public Shape(params int[] dims)
    {
        ArgumentNullException.ThrowIfNull(dims);
        foreach (var d in dims)
        {
            if (d < 0)
            {
                throw new ArgumentException($"shape {Format(dims)} has a negative dimension", nameof(dims));
            }
        }
        _dims = [.. dims];
    }

    /// <summary>The dimensions.</summary>
    public ReadOnlySpan<int> Dims => _dims.IsDefault ? ReadOnlySpan<int>.Empty : _dims.AsSpan();

    /// <summary>Number of dimensions.</summary>
    public int Rank => _dims.IsDefault ? 0 : _dims.Length;

    /// <summary>Dimension <paramref name="axis"/>; negative axes count from the end.</summary>
    public int this[int axis]
    {
        get
        {
            int a = axis < 0 ? axis + Rank : axis;
            if (a < 0 || a >= Rank)
            {
                throw new ArgumentOutOfRangeException(nameof(axis), $"axis {axis} is out of range for shape {this}");
            }
            return _dims[a];
        }
    }

    /// <summary>Total number of elements (1 for a scalar shape []).</summary>
    public long Numel
    {
        get
        {
            long n = 1;
            foreach (var d in Dims)
            {
                n *= d;
            }
            return n;
        }
    }

    /// <summary>The last dimension (1 for a scalar).</summary>
    public int Last => Rank == 0 ? 1 : _dims[^1];

    /// <summary>Product of all dimensions but the last: the number of rows when the tensor is seen as a matrix.</summary>
    public long Rows
    {
        get
        {
            long n = 1;
            for (int i = 0; i < Rank - 1; i++)
            {
                n *= _dims[i];
            }
            return n;
        }
    }

    /// <summary>A copy of the dimensions.</summary>
    public int[] ToArray() => Dims.ToArray();

    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);

    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dims)
        {
            h.Add(d);
        }
        return h.ToHashCode();
    }

    public static bool operator ==(Shape a, Shape b) => a.Equals(b);

    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    public static implicit operator Shape(int[] dims) => new(dims);

    public override string ToString() => Format(Dims);

    private static string Format(ReadOnlySpan<int> dims) => "[" + string.Join(",", dims.ToArray()) + "]";
}
