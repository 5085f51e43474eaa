"""Employer rules: those of every named resource (unique name, image an image)."""

from app.employers.read_model import employer_payload
from app.employers.repository import EmployerRepository
from app.models import Employer
from app.named.service import NamedService

employers: NamedService[Employer] = NamedService("employer", EmployerRepository(), employer_payload)
