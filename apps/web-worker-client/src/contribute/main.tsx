import { mountPage } from '../shared/mount.js';
import { ContributePage } from './ContributePage.js';
import './contribute.css';

mountPage(<ContributePage />);
