using System.Text.RegularExpressions;

namespace LoopDoctor.Cli.Baselines;

/// <summary>
/// A culprit frame reduced to namespace.Type.Method, so a baseline survives recompilation and line shifts: no
/// parameter lists, offsets or addresses, no generic arity or arguments, and compiler-generated async state machines,
/// lambdas and display classes mapped back to the method the code was written in.
/// </summary>
internal static partial class CallSiteKey
{
    /// <summary>The key of a call site without a resolvable application frame.</summary>
    public const string NoCallSite = "(no application frame)";

    /// <summary>
    /// A call site's key: its innermost application frame; without one (the JIT inlined an MVC action into its invoker),
    /// the action's display name, which normalizes to the same key as the action's own frame, so a baseline holds
    /// whether or not the action was inlined; else an attribute route. Null when neither is known.
    /// </summary>
    public static string? Of(LoopDoctor.Cli.Findings.CallSite site) =>
        site.Frames.Count > 0 ? Normalize(site.Frames[0])
        : site.Endpoint?.StableName is { } name ? Normalize(name)
        : null;

    public static string Normalize(string frame)
    {
        var text = frame.Trim();
        var paren = text.IndexOf('(', StringComparison.Ordinal);
        if (paren >= 0)
        {
            text = text[..paren];
        }

        text = Offset().Replace(text, "");
        text = GenericArguments().Replace(text, "");
        text = GenericArity().Replace(text, "");
        // <Method>d__12.MoveNext → Method (async/iterator state machine); <Method>b__3_0 → Method (lambda in Method).
        text = StateMachine().Replace(text, "$1");
        text = Lambda().Replace(text, "$1");
        // Closure classes: Type.<>c__DisplayClass5_0.Method / Type.<>c.Method → Type.Method.
        text = Closure().Replace(text, "");
        text = text.Replace("+", ".", StringComparison.Ordinal).Replace("..", ".", StringComparison.Ordinal).Trim('.', ' ');
        return text.Length == 0 ? frame.Trim() : text;
    }

    [GeneratedRegex(@"\s*\+\s*0x[0-9a-fA-F]+|\s*\[0x[0-9a-fA-F]+\]|!0x[0-9a-fA-F]+|\s+at offset \d+")]
    private static partial Regex Offset();

    [GeneratedRegex(@"\[[^\[\]]*(\[[^\[\]]*\][^\[\]]*)*\]|<[^<>]*,[^<>]*>")]
    private static partial Regex GenericArguments();

    [GeneratedRegex(@"`\d+")]
    private static partial Regex GenericArity();

    [GeneratedRegex(@"<([A-Za-z_][\w]*)>d__\d+(?:\.MoveNext)?")]
    private static partial Regex StateMachine();

    [GeneratedRegex(@"<([A-Za-z_][\w]*)>(?:b|g)__[\w|]+")]
    private static partial Regex Lambda();

    [GeneratedRegex(@"<>c(?:__DisplayClass[\d_]+)?\.?")]
    private static partial Regex Closure();
}
