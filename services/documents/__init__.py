"""Documents of the end of the process: the e-certificate (电子培训合格证) and the training proof (学时证明).

Renders them as PDFs with an embedded Chinese font, hands out signed download links and serves the
public verification page their QR codes point to.
"""
