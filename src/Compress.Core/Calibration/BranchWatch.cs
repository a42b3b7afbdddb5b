using Compress.Core.Onnx.Proto;

namespace Compress.Core.Calibration;

/// <summary>
/// An <c>If</c> node of the main graph whose condition is watched during calibration, to tell which
/// branch ran: tensors of a branch that never ran are reported as such.
/// </summary>
internal sealed class BranchWatch(NodeProto node, string condition, bool conditionIsGraphInput)
{
    public NodeProto Node { get; } = node;

    /// <summary>The condition tensor (the If node's input 0).</summary>
    public string Condition { get; } = condition;

    /// <summary>True when the condition is a model input read from the batch; false for a node output added as a graph output.</summary>
    public bool ConditionIsGraphInput { get; } = conditionIsGraphInput;

    public bool SeenTrue { get; private set; }

    public bool SeenFalse { get; private set; }

    public string Label => Node.Name.Length > 0 ? Node.Name : $"{Node.OpType} producing '{Node.Output.FirstOrDefault()}'";

    public void Observe(ReadOnlySpan<bool> values)
    {
        foreach (bool v in values)
        {
            SeenTrue |= v;
            SeenFalse |= !v;
        }
    }

    /// <summary>True when the branch held by <paramref name="attributeName"/> never ran.</summary>
    public bool NeverRan(string attributeName) => attributeName switch
    {
        "then_branch" => !SeenTrue,
        "else_branch" => !SeenFalse,
        _ => false,
    };
}
