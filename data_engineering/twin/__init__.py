"""The distribution network as a CIM-shaped digital twin and its DTDL v3 import/export."""
