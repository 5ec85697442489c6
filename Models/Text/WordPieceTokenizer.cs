namespace Xmc.Models.Text;

/// <summary>BERT's WordPiece tokenizer: <see cref="BertWordSplitter"/> words, then greedy longest-match-first
/// pieces from a <see cref="WordPieceVocabulary"/>. Thread-safe: one instance can serve many loader threads.</summary>
/// <remarks>Written here rather than taken from Microsoft.ML.Tokenizers 2.0.0, whose BertTokenizer silently
/// drops every character that is neither a letter/digit nor Unicode punctuation ("c++" → "c", "a$b" → "a b",
/// emoji and symbols vanish), deletes tabs and newlines instead of splitting on them (a tab between "1" and
/// "unaffable" leaves the single word "1unaffable"), keeps "_" inside words, splits on zero-width and format
/// characters, and strips accents only through ICU, which the engine's invariant-globalization build lacks.
/// BERT keeps "$", "+" and "_" as punctuation tokens, maps unknown symbols to [UNK] and treats tab and
/// newline as spaces. Text that spells a special token ("[SEP]") is tokenized as ordinary text: raw training
/// text never yields special ids.</remarks>
public sealed class WordPieceTokenizer
{
    /// <summary>Longest word (in Unicode characters) that is split into pieces; longer words become [UNK]
    /// (Hugging Face's limit; the original BERT code used 200).</summary>
    public const int DefaultMaxCharsPerWord = 100;

    private readonly BertWordSplitter _splitter;

    /// <summary>Creates a tokenizer; <paramref name="lowercase"/> for uncased vocabularies.</summary>
    public WordPieceTokenizer(WordPieceVocabulary vocabulary, bool lowercase = true, int maxCharsPerWord = DefaultMaxCharsPerWord)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCharsPerWord, 1);
        Vocabulary = vocabulary;
        MaxCharsPerWord = maxCharsPerWord;
        _splitter = new BertWordSplitter(lowercase);
    }

    /// <summary>The vocabulary.</summary>
    public WordPieceVocabulary Vocabulary { get; }

    /// <summary>Whether text is lowercased and stripped of accents.</summary>
    public bool Lowercase => _splitter.Lowercase;

    /// <summary>Words longer than this many Unicode characters become [UNK].</summary>
    public int MaxCharsPerWord { get; }

    /// <summary>Appends the piece ids of <paramref name="text"/> (no special tokens) to <paramref name="ids"/>,
    /// at most <paramref name="maxTokens"/> of them: the text is truncated at a piece, and reading stops there.</summary>
    public void Tokenize(ReadOnlySpan<char> text, List<int> ids, int maxTokens = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        int limit = maxTokens == int.MaxValue ? int.MaxValue : ids.Count + maxTokens;
        using var reader = _splitter.Read(text);
        while (ids.Count < limit && reader.Next(out var word))
        {
            AppendPieces(word, ids);
        }
        if (ids.Count > limit)
        {
            ids.RemoveRange(limit, ids.Count - limit);
        }
    }

    /// <summary>The piece ids of <paramref name="text"/>, without special tokens.</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>();
        Tokenize(text, ids);
        return [.. ids];
    }

    /// <summary>The pieces of <paramref name="text"/> as strings ("##" marks continuations), for inspection.</summary>
    public string[] Pieces(string text) => [.. Encode(text).Select(id => Vocabulary[id])];

    /// <summary>Tokenizes a batch into rows [CLS] pieces [SEP] [PAD]…, truncating each text's pieces so that a
    /// row holds at most <paramref name="maxLength"/> tokens. Rows are padded to the longest row rounded up to
    /// a multiple of <paramref name="padMultiple"/> (never beyond <paramref name="maxLength"/>), or to
    /// <paramref name="maxLength"/> itself when <paramref name="padToMaxLength"/>.</summary>
    public TokenBatch EncodeBatch(IReadOnlyList<string> texts, int maxLength, bool padToMaxLength = false, int padMultiple = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(padMultiple, 1);
        var rows = new int[texts.Count][];
        var ids = new List<int>(maxLength);
        int longest = 0;
        for (int b = 0; b < texts.Count; b++)
        {
            ids.Clear();
            ids.Add(Vocabulary.ClassificationId);
            Tokenize(texts[b], ids, maxLength - 2);
            ids.Add(Vocabulary.SeparatorId);
            rows[b] = [.. ids];
            longest = Math.Max(longest, ids.Count);
        }
        int length = padToMaxLength ? maxLength : Math.Min(maxLength, (longest + padMultiple - 1) / padMultiple * padMultiple);
        var inputIds = new int[texts.Count * length];
        var mask = new int[texts.Count * length];
        var lengths = new int[texts.Count];
        inputIds.AsSpan().Fill(Vocabulary.PadId);
        for (int b = 0; b < rows.Length; b++)
        {
            rows[b].CopyTo(inputIds.AsSpan(b * length));
            mask.AsSpan(b * length, rows[b].Length).Fill(1);
            lengths[b] = rows[b].Length;
        }
        return new TokenBatch(texts.Count, length, inputIds, mask, lengths);
    }

    /// <summary>Greedy longest-match-first: the longest vocabulary piece at the start of the word, then the
    /// longest "##" piece at each following position; the whole word is one [UNK] if any position has none.</summary>
    private void AppendPieces(ReadOnlySpan<char> word, List<int> ids)
    {
        if (word.Length > MaxCharsPerWord && CountChars(word) > MaxCharsPerWord)
        {
            ids.Add(Vocabulary.UnknownId);
            return;
        }
        int mark = ids.Count;
        int start = 0;
        while (start < word.Length)
        {
            bool first = start == 0;
            int end = Math.Min(word.Length, start + (first ? Vocabulary.MaxStartLength : Vocabulary.MaxContinuationLength));
            int id = -1;
            for (; end > start; end--)
            {
                if (end < word.Length && char.IsLowSurrogate(word[end]))
                {
                    continue; // never cut a surrogate pair
                }
                var piece = word[start..end];
                if (first ? Vocabulary.Starts.TryGetValue(piece, out id) : Vocabulary.Continuations.TryGetValue(piece, out id))
                {
                    break;
                }
                id = -1;
            }
            if (id < 0)
            {
                ids.RemoveRange(mark, ids.Count - mark);
                ids.Add(Vocabulary.UnknownId);
                return;
            }
            ids.Add(id);
            start = end;
        }
    }

    private static int CountChars(ReadOnlySpan<char> word)
    {
        int n = 0;
        for (int i = 0; i < word.Length; i++)
        {
            if (!char.IsLowSurrogate(word[i]))
            {
                n++;
            }
        }
        return n;
    }
}
