namespace Xmc.Training.Data;

/// <summary>
/// The ids (with values and source columns) read from one line, before they become a CSR row: files need not
/// list ids in order, so the row is sorted here, and a repeated id is found with the column where it repeats.
/// </summary>
internal sealed class PendingRow
{
    private int[] _ids = new int[32];
    private float[] _values = new float[32];
    private long[] _columns = new long[32];
    private int[] _order = new int[32];
    private int _count;
    private bool _sorted = true;

    public int Count => _count;
    public ReadOnlySpan<int> Ids => _ids.AsSpan(0, _count);
    public ReadOnlySpan<float> Values => _values.AsSpan(0, _count);

    public void Clear()
    {
        _count = 0;
        _sorted = true;
    }

    public void Add(int id, float value, long column)
    {
        if (_count == _ids.Length)
        {
            int capacity = 2 * _count;
            Array.Resize(ref _ids, capacity);
            Array.Resize(ref _values, capacity);
            Array.Resize(ref _columns, capacity);
            Array.Resize(ref _order, capacity);
        }
        if (_count > 0 && _ids[_count - 1] >= id)
            _sorted = false;
        _ids[_count] = id;
        _values[_count] = value;
        _columns[_count] = column;
        _count++;
    }

    /// <summary>
    /// Sorts the row by id. Returns the column of the first entry (in line order) that repeats an id given
    /// before it on the line, or -1 when all ids are distinct (the row is then sorted).
    /// </summary>
    public long SortAndFindRepeat()
    {
        if (_sorted)
            return -1;
        var order = _order.AsSpan(0, _count);
        for (int i = 0; i < order.Length; i++)
            order[i] = i;
        var ids = _ids;
        // ties by position so that a repeat is always the later of two equal neighbours
        order.Sort((a, b) => ids[a] != ids[b] ? ids[a].CompareTo(ids[b]) : a.CompareTo(b));
        long repeatColumn = -1;
        for (int i = 1; i < order.Length; i++)
        {
            if (ids[order[i]] == ids[order[i - 1]])
            {
                long c = _columns[order[i]];
                if (repeatColumn < 0 || c < repeatColumn)
                    repeatColumn = c;
            }
        }
        if (repeatColumn >= 0)
            return repeatColumn;
        var sortedIds = new int[_count];
        var sortedValues = new float[_count];
        for (int i = 0; i < order.Length; i++)
        {
            sortedIds[i] = ids[order[i]];
            sortedValues[i] = _values[order[i]];
        }
        sortedIds.CopyTo(_ids, 0);
        sortedValues.CopyTo(_values, 0);
        _sorted = true;
        return -1;
    }
}
