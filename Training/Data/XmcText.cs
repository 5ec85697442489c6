namespace Xmc.Training.Data;

/// <summary>The raw text of a point or a label, as the LF-* JSON lines carry it.</summary>
/// <param name="Uid">The data set's own id of the item (may be empty).</param>
/// <param name="Title">The title (for a label: its name).</param>
/// <param name="Content">The body text (empty in the *Titles data sets).</param>
public sealed record XmcText(string Uid, string Title, string Content)
{
    /// <summary>The text a model reads: the title, then the content when there is one.</summary>
    public string Text => Content.Length == 0 ? Title : Title + " " + Content;
}
