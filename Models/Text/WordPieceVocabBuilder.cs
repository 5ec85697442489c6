using System.Text;

namespace Xmc.Models.Text;

/// <summary>Builds a WordPiece vocabulary from training text when no <c>vocab.txt</c> is given: the special
/// tokens, every character seen (alone and as a "##" continuation, so any word can be spelled and only words
/// over the length limit become [UNK]), then the most frequent words.</summary>
/// <remarks>Words come from the same <see cref="BertWordSplitter"/> the tokenizer uses, so the counted words
/// are exactly the units WordPiece later looks up. The result is deterministic: characters ordered by count
/// (descending) then code point, words by count then ordinal string order.</remarks>
public sealed class WordPieceVocabBuilder
{
    private readonly BertWordSplitter _splitter;
    private readonly Dictionary<string, long> _words = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _wordLookup;
    private readonly Dictionary<int, long> _chars = [];

    /// <summary>Creates a builder; <paramref name="lowercase"/> must match the tokenizer that will use the vocabulary.</summary>
    public WordPieceVocabBuilder(bool lowercase = true)
    {
        _splitter = new BertWordSplitter(lowercase);
        _wordLookup = _words.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The special tokens, in the ids they get: [PAD] 0, [UNK] 1, [CLS] 2, [SEP] 3, [MASK] 4.</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } =
        [WordPieceVocabulary.Pad, WordPieceVocabulary.Unknown, WordPieceVocabulary.Classification, WordPieceVocabulary.Separator, WordPieceVocabulary.Mask];

    /// <summary>Counts the words and characters of <paramref name="text"/>.</summary>
    public void Add(ReadOnlySpan<char> text)
    {
        using var reader = _splitter.Read(text);
        while (reader.Next(out var word))
        {
            if (_wordLookup.TryGetValue(word, out long n))
            {
                _wordLookup[word] = n + 1;
            }
            else
            {
                _wordLookup[word] = 1;
            }
            foreach (var rune in word.EnumerateRunes())
            {
                _chars[rune.Value] = _chars.GetValueOrDefault(rune.Value) + 1;
            }
        }
    }

    /// <summary>Number of distinct words counted so far.</summary>
    public int DistinctWords => _words.Count;

    /// <summary>The vocabulary: special tokens, every character and its "##" form, then words seen at least
    /// <paramref name="minWordCount"/> times, most frequent first, until <paramref name="vocabSize"/> tokens.
    /// Characters are never left out, so the result is larger than <paramref name="vocabSize"/> when the text
    /// has more distinct characters than fit.</summary>
    public WordPieceVocabulary Build(int vocabSize, int minWordCount = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minWordCount, 1);
        var tokens = new List<string>(SpecialTokens);
        var present = new HashSet<string>(tokens, StringComparer.Ordinal);
        var chars = _chars.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => new Rune(kv.Key).ToString()).ToList();
        foreach (var c in chars)
        {
            if (present.Add(c))
            {
                tokens.Add(c);
            }
        }
        foreach (var c in chars)
        {
            var continuation = WordPieceVocabulary.ContinuationPrefix + c;
            if (present.Add(continuation))
            {
                tokens.Add(continuation);
            }
        }
        var words = _words.Where(kv => kv.Value >= minWordCount && kv.Key.Length <= WordPieceTokenizer.DefaultMaxCharsPerWord)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal);
        foreach (var (word, _) in words)
        {
            if (tokens.Count >= vocabSize)
            {
                break;
            }
            if (present.Add(word))
            {
                tokens.Add(word);
            }
        }
        return new WordPieceVocabulary(tokens, "built vocabulary");
    }
}
