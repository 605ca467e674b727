// Arguments every lab command takes.
export const labArgs = {
  lab: { type: "string", description: "Lab name (prefix of its namespaces and interfaces); default $XDPTOOL_LAB or xl" },
  name: { type: "string", description: "Old name of --lab (--name is a program's name in load)", hidden: true },
} as const;

/** The lab a command names (--lab, or the old --name). */
export const labName = (args: { lab?: string; name?: string }): string | undefined => args.lab ?? args.name;
