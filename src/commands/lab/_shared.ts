// Arguments every lab command takes.
export const labArgs = {
  name: { type: "string", description: "Lab name (prefix of its namespaces and interfaces); default $XDPTOOL_LAB or xl" },
} as const;
