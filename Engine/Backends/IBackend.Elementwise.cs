namespace Xmc.Engine.Backends;

/// <summary>Binary element-wise operations.</summary>
public enum BinaryOp
{
    Add,
    Sub,
    Mul,
    Div,
}

/// <summary>How the second operand of a binary op is broadcast over the first, seen as a [rows, cols] matrix.</summary>
public enum Broadcast
{
    /// <summary>Same shape: [rows, cols].</summary>
    None,

    /// <summary>A row vector [cols], repeated for every row.</summary>
    Row,

    /// <summary>A column vector [rows], repeated for every column.</summary>
    Column,
}

public partial interface IBackend
{
    /// <summary>y = a (op) b over a [rows, cols] matrix, with <paramref name="b"/> broadcast as given.</summary>
    void Binary(BinaryOp op, nint a, nint b, nint y, long rows, long cols, Broadcast broadcast);

    /// <summary>y += alpha·x over <paramref name="n"/> floats (gradient accumulation).</summary>
    void Axpy(nint y, nint x, long n, float alpha);
}
