namespace Compress.Runtime; internal static class Placeholder { }
