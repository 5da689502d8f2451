using Microsoft.ML.Data;

namespace Microsoft.ML.Mhc.TextGeneration;

/// <summary>The column names a text-generation transformer reads and writes.</summary>
/// <param name="Text">The text column scored for evaluation (the training text column's name).</param>
/// <param name="Prompt">The prompt column.</param>
/// <param name="GeneratedText">The output column of generated text.</param>
public sealed record TextGenerationColumns(string Text, string Prompt, string GeneratedText)
{
    /// <summary>An added output column.</summary>
    internal sealed record Output(string Name, DataViewType Type);

    /// <summary>
    /// The columns the transformer adds given which inputs are present: <c>GeneratedText</c> from a
    /// prompt column; <c>NegativeLogLikelihood</c> and <c>PredictedTokens</c> from the text column.
    /// </summary>
    internal static IReadOnlyList<Output> Added(string text, string prompt, string generated, Func<string, bool> hasTextColumn)
    {
        var list = new List<Output>();
        if (hasTextColumn(prompt)) list.Add(new Output(generated, TextDataViewType.Instance));
        if (hasTextColumn(text))
        {
            list.Add(new Output(DefaultColumnNames.NegativeLogLikelihood, NumberDataViewType.Single));
            list.Add(new Output(DefaultColumnNames.PredictedTokens, NumberDataViewType.Single));
        }
        return list;
    }

    internal IReadOnlyList<Output> Added(DataViewSchema schema) =>
        Added(Text, Prompt, GeneratedText, name => schema.GetColumnOrNull(name) is { Type: TextDataViewType });
}
