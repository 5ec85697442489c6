using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Xmc.Models.Text;

/// <summary>BERT's basic tokenization: cleans and normalizes text and splits it into words, before WordPiece.</summary>
/// <remarks>The rules of the original BERT tokenizer, per Unicode scalar value: NUL, U+FFFD and control or
/// format characters (other than tab, newline, carriage return) are dropped without breaking a word;
/// whitespace (space, tab, newline, CR, category Zs) ends a word; each CJK ideograph is a word of its own;
/// each punctuation character (ASCII 33–47, 58–64, 91–96, 123–126, or any Unicode P* category — so "$", "+",
/// "^" count as punctuation) is a word of its own. When <see cref="Lowercase"/> is set (uncased models) each
/// character is lowercased and accents are stripped (canonical decomposition, then nonspacing marks
/// dropped — so Hangul syllables become their jamo, as in BERT). Lowercasing uses .NET's per-character invariant mapping, which differs from Python's full case
/// mapping only for a handful of characters such as 'İ'.</remarks>
public sealed class BertWordSplitter
{
    private enum CharClass : byte
    {
        Word,
        Whitespace,
        Punctuation,
        Removed,
    }

    private static readonly CharClass[] AsciiClass = BuildAsciiClasses();

    // Normalized forms of non-ASCII word characters, filled as they are met (bounded by the distinct characters seen).
    private readonly ConcurrentDictionary<int, string> _normalized = new();

    /// <summary>Creates a splitter; <paramref name="lowercase"/> for uncased vocabularies.</summary>
    public BertWordSplitter(bool lowercase) => Lowercase = lowercase;

    /// <summary>Whether text is lowercased and stripped of accents.</summary>
    public bool Lowercase { get; }

    /// <summary>A reader over the words of <paramref name="text"/>; dispose it to return its buffer.</summary>
    public WordReader Read(ReadOnlySpan<char> text) => new(this, text);

    /// <summary>The words of <paramref name="text"/> as strings (allocates; for tests and tools).</summary>
    public List<string> Split(string text)
    {
        var words = new List<string>();
        using var reader = Read(text);
        while (reader.Next(out var word))
        {
            words.Add(word.ToString());
        }
        return words;
    }

    private static CharClass[] BuildAsciiClasses()
    {
        var classes = new CharClass[128];
        for (int c = 0; c < 128; c++)
        {
            classes[c] = c switch
            {
                ' ' or '\t' or '\n' or '\r' => CharClass.Whitespace,
                < 32 or 127 => CharClass.Removed,
                (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126) => CharClass.Punctuation,
                _ => CharClass.Word,
            };
        }
        return classes;
    }

    private static CharClass Classify(Rune r)
    {
        if (r.Value < 128)
        {
            return AsciiClass[r.Value];
        }
        if (r.Value == 0xFFFD)
        {
            return CharClass.Removed;
        }
        switch (Rune.GetUnicodeCategory(r))
        {
            case UnicodeCategory.SpaceSeparator:
                return CharClass.Whitespace;
            case UnicodeCategory.Control or UnicodeCategory.Format:
                return CharClass.Removed;
            case UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation:
                return CharClass.Punctuation;
            default:
                return CharClass.Word;
        }
    }

    /// <summary>Whether <paramref name="r"/> is a CJK ideograph in the sense of the original BERT tokenizer.</summary>
    public static bool IsCjk(Rune r)
    {
        int v = r.Value;
        return (v >= 0x4E00 && v <= 0x9FFF) || (v >= 0x3400 && v <= 0x4DBF) || (v >= 0x20000 && v <= 0x2A6DF)
            || (v >= 0x2A700 && v <= 0x2B73F) || (v >= 0x2B740 && v <= 0x2B81F) || (v >= 0x2B820 && v <= 0x2CEAF)
            || (v >= 0xF900 && v <= 0xFAFF) || (v >= 0x2F800 && v <= 0x2FA1F);
    }

    /// <summary>The normalized text of a non-ASCII character (its lowercase with nonspacing marks removed when
    /// lowercasing; itself otherwise).</summary>
    private string Normalize(Rune r) => _normalized.GetOrAdd(r.Value, static (v, lower) =>
        lower ? AccentStripping.Strip(Rune.ToLowerInvariant(new Rune(v))) : new Rune(v).ToString(), Lowercase);

    /// <summary>Enumerates the normalized words of a text without allocating per word. The span a call to
    /// <see cref="Next"/> returns is valid until the next call.</summary>
    public ref struct WordReader
    {
        private readonly BertWordSplitter _splitter;
        private readonly ReadOnlySpan<char> _text;
        private int _position;
        private char[] _buffer;
        private string? _pending;

        internal WordReader(BertWordSplitter splitter, ReadOnlySpan<char> text)
        {
            _splitter = splitter;
            _text = text;
            _buffer = ArrayPool<char>.Shared.Rent(64);
        }

        /// <summary>Moves to the next word; false at the end of the text.</summary>
        public bool Next(out ReadOnlySpan<char> word)
        {
            if (_pending is not null)
            {
                word = _pending;
                _pending = null;
                return true;
            }
            int length = 0;
            bool lower = _splitter.Lowercase;
            while (_position < _text.Length)
            {
                char c = _text[_position];
                if (c < 128)
                {
                    _position++;
                    switch (AsciiClass[c])
                    {
                        case CharClass.Word:
                            Append(ref length, lower && c is >= 'A' and <= 'Z' ? (char)(c + 32) : c);
                            continue;
                        case CharClass.Whitespace:
                            if (length > 0)
                            {
                                word = _buffer.AsSpan(0, length);
                                return true;
                            }
                            continue;
                        case CharClass.Punctuation:
                            return Isolate(length, PunctuationStrings[c], out word);
                        default:
                            continue;
                    }
                }
                if (Rune.DecodeFromUtf16(_text[_position..], out var rune, out int consumed) != OperationStatus.Done)
                {
                    // An unpaired surrogate is not text; drop it like a control character.
                    _position += Math.Max(consumed, 1);
                    continue;
                }
                _position += consumed;
                switch (Classify(rune))
                {
                    case CharClass.Whitespace:
                        if (length > 0)
                        {
                            word = _buffer.AsSpan(0, length);
                            return true;
                        }
                        continue;
                    case CharClass.Removed:
                        continue;
                    case CharClass.Punctuation:
                        var punctuation = _splitter.Normalize(rune);
                        if (punctuation.Length == 0)
                        {
                            continue;
                        }
                        return Isolate(length, punctuation, out word);
                    default:
                        if (IsCjk(rune))
                        {
                            return Isolate(length, rune.ToString(), out word);
                        }
                        foreach (char n in _splitter.Normalize(rune))
                        {
                            Append(ref length, n);
                        }
                        continue;
                }
            }
            word = _buffer.AsSpan(0, length);
            return length > 0;
        }

        /// <summary>Emits a one-character word: after the word being built, if any.</summary>
        private bool Isolate(int length, string single, out ReadOnlySpan<char> word)
        {
            if (length > 0)
            {
                _pending = single;
                word = _buffer.AsSpan(0, length);
            }
            else
            {
                word = single;
            }
            return true;
        }

        private void Append(ref int length, char c)
        {
            if (length == _buffer.Length)
            {
                var larger = ArrayPool<char>.Shared.Rent(_buffer.Length * 2);
                _buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<char>.Shared.Return(_buffer);
                _buffer = larger;
            }
            _buffer[length++] = c;
        }

        /// <summary>Returns the buffer to the pool.</summary>
        public void Dispose()
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<char>.Shared.Return(_buffer);
                _buffer = [];
            }
        }
    }

    private static readonly string[] PunctuationStrings = Enumerable.Range(0, 128).Select(c => ((char)c).ToString()).ToArray();
}
