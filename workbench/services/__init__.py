"""Use cases shared by every front end. They return plain data and `Changes`; every
mutation is an undoable command run through `Project.run`."""
