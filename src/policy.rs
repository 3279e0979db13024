//! decide(): rules, requirement, reasons, audit.
