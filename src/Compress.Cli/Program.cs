using System.CommandLine;
using Compress.Cli;

// `compress run | inspect`: argument parsing and console output only; the work is done by Compress.Core.
var root = new RootCommand("Compress ONNX models (prune, quantize) from a compress.yaml spec.")
{
    RunCommand.Create(),
    InspectCommand.Create(),
    EvalCommand.Create(),
    ReportCommand.Create(),
};
// Exceptions reach CommandRunner, which prints coded diagnostics instead of System.CommandLine's stack trace.
var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
return CommandRunner.Guard(() => root.Parse(args).Invoke(invocation));
